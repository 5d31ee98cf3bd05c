// Baseline (a): the ceiling of Express on this machine. No parsing, no auth, no Redis.
import express from 'express';
import { env } from './env.ts';

const app = express();
// The product answers without these headers; the same answer shape keeps the ratio about work.
app.disable('x-powered-by');
app.set('etag', false);
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post('/{*path}', (_req, res) => {
  res.json({ result: 'success' });
});

const server = app.listen(Number(env('PORT')), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
