import { spawn } from 'node:child_process';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { createDb, ensureDatabase, migrateLatest, seedDemo } from '@ticketflow/db';
import { createRedis, createReplyQueue } from '@ticketflow/queue';
import { signToken } from '../apps/ingress/src/index.ts';

const DB = 'postgres://postgres@127.0.0.1:5432/tf_perf_rough';
const PREFIX = `perf-${randomUUID()}`;
const SECRET = 'x'.repeat(40);
const PORT = 18181;
await ensureDatabase(DB);
const db = createDb(DB, 2);
await migrateLatest(db);
const seed = await seedDemo(db);
const child = spawn('node', ['apps/cli/bin/ticketflow.mjs', 'serve', '--ingress'], {
  env: { ...process.env, DATABASE_URL: DB, TICKETFLOW_QUEUE_PREFIX: PREFIX, TICKETFLOW_JWT_SECRET: SECRET, PORT: String(PORT), TICKETFLOW_ACCESS_LOG: 'false', LOG_LEVEL: 'warn', TICKETFLOW_RATE_LIMIT_PER_PRINCIPAL: '100000000', TICKETFLOW_RATE_LIMIT_PER_TICKET: '100000000' },
  stdio: 'inherit',
});
await new Promise((r) => setTimeout(r, 3000));
const token = signToken({ secret: SECRET, audience: 'ticketflow', issuer: undefined, role: 'client', sub: 'perf', clientid: seed.clientId, ttlSeconds: 3600 });
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const body = `ticketid=${seed.ticketId}&message=hello+there&markdown=1&customfields=&attachments=%5B%5D`;
function post(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: PORT, path: '/api/v2/add-ticket-reply', method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end(body);
  });
}
async function run(n: number, conc: number, op: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => { while (next++ < n) await op(); }));
  return n / ((performance.now() - t0) / 1000);
}
const redis = createRedis('redis://127.0.0.1:6379', 'producer');
const queue = createReplyQueue(redis, `${PREFIX}-base`, { attempts: 6, backoffMs: 1000 });
const jobData = { v: 1, replyid: randomUUID(), dedupeKey: 'x', ticket: { id: seed.ticketId }, author: { type: 'client', clientid: seed.clientId, contactid: null }, message: 'hello there', markdown: true, status: null, noemail: false, created: null, customfields: [], attachments: [], source: { kind: 'api', principal: 'perf' }, receivedAt: new Date().toISOString() };
const addOne = () => queue.add('reply', { ...jobData, replyid: randomUUID() } as never, {});
await run(300, 32, post); await run(300, 32, addOne);
const ratios: number[] = [];
for (let round = 0; round < 3; round++) {
  const http = await run(2000, 32, post);
  const base = await run(2000, 32, addOne);
  ratios.push(http / base);
  console.log(`round ${round}: http ${http.toFixed(0)}/s, bare queue.add ${base.toFixed(0)}/s, ratio ${(http / base).toFixed(2)}`);
}
console.log('median ratio', ratios.sort()[1]!.toFixed(2));
child.kill('SIGTERM');
await queue.obliterate({ force: true }).catch(() => undefined);
await queue.close(); redis.disconnect(); await db.destroy();
process.exit(0);
