// Baseline (b): the hand-written ingress a user would write instead of Ticketflow: parse the
// body, verify the JWT, queue.add the body, answer. Nothing is validated, nothing is looked up.
import { createSecretKey } from 'node:crypto';
import express, { type Request } from 'express';
import jwt from 'jsonwebtoken';
import multer from 'multer';
import { env } from './env.ts';
import { openRepliesQueue } from './replies-queue.ts';

// A KeyObject, built once: given a string, jsonwebtoken 9 first tries (and fails) to parse it
// as a public key on every verify, a third of this server's CPU. Keeping the baseline strong.
const secret = createSecretKey(Buffer.from(env('TICKETFLOW_JWT_SECRET')));
const audience = env('TICKETFLOW_JWT_AUDIENCE');
const queue = openRepliesQueue();

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post(
  '/api/v2/add-ticket-reply',
  express.urlencoded(),
  express.json(),
  multer({ storage: multer.memoryStorage() }).any(),
  async (req, res) => {
    let sub: string;
    try {
      const claims = jwt.verify(bearer(req), secret, { algorithms: ['HS256'], audience });
      sub = typeof claims === 'string' ? '' : (claims.sub ?? '');
    } catch {
      res.status(401).json({ result: 'error', message: 'Authentication Failed' });
      return;
    }
    // File bytes are parsed but not stored anywhere, only named: this baseline is an upper bound
    // for a handler that would also have to keep them (Ticketflow stages them in PostgreSQL).
    const files = Array.isArray(req.files)
      ? req.files.map((f) => ({ name: f.originalname, size: f.size }))
      : [];
    const job = await queue.add('reply', {
      ...(req.body as Record<string, unknown>),
      files,
      sub,
      receivedAt: new Date().toISOString(),
    });
    res.json({ result: 'success', replyid: job.id });
  },
);

function bearer(req: Request): string {
  return /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
}

const server = app.listen(Number(env('PORT')), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => void queue.close().then(() => process.exit(0))));
