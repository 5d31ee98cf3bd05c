// Baseline (m): what parsing the multipart body costs at all, with multer's memory storage.
import express from 'express';
import multer from 'multer';
import { env } from './env.ts';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
// Every part is read: the fields into req.body, each file whole into a Buffer.
app.post('/{*path}', multer({ storage: multer.memoryStorage() }).any(), (_req, res) => {
  res.json({ result: 'success' });
});

const server = app.listen(Number(env('PORT')), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
