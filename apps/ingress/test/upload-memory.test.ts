import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '@ticketflow/queue';
import { redisUrl } from '@ticketflow/testing';
import { freePort } from '@ticketflow/testing/peers';
import { signToken } from '../src/index.ts';
import { createTestStores, type TestStores } from './stack.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The blob store's chunk size (packages/db/src/blob-store.ts): what an upload should hold. */
const CHUNK = 256 * KiB;
const UPLOAD_BYTES = 10 * MiB;
const BIN = fileURLToPath(new URL('../../cli/bin/ticketflow.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let stores: TestStores;
let redis: Redis;
let child: ChildProcess;
let baseUrl: string;
let token: string;
/** The child's output, shown when it fails to start. */
let output = '';

/** Resident-set figures of a process in bytes: VmHWM is the peak since it started. */
function memoryOf(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
  return { hwm: kib('VmHWM') * KiB, rss: kib('VmRSS') * KiB };
}

async function waitUntilReady(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the ingress exited:\n${output}`);
    const res = await fetch(`${baseUrl}/readyz`).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`the ingress never became ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A multipart body as a stream: the text fields, then one file part of `size` random bytes
 * produced 64 KiB at a time, so the client never holds the file either. `sha256` resolves
 * once the file has been produced.
 */
function multipartUpload(fields: Record<string, string>, fileName: string, size: number) {
  const boundary = `----ticketflow-${randomBytes(12).toString('hex')}`;
  const hash = createHash('sha256');
  function* body(): Generator<Buffer> {
    for (const [name, value] of Object.entries(fields)) {
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      );
    }
    yield Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="attachments[]"; filename="${fileName}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    for (let sent = 0; sent < size;) {
      const piece = randomBytes(Math.min(64 * KiB, size - sent));
      hash.update(piece);
      sent += piece.length;
      yield piece;
    }
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    stream: Readable.from(body(), { objectMode: false }),
    sha256: () => hash.digest('hex'),
  };
}

/** POSTs a stream with chunked transfer encoding (no Content-Length), as curl -T - would. */
function postStream(
  path: string,
  contentType: string,
  body: Readable,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}${path}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          let json: Record<string, unknown>;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            return reject(new Error(`HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`));
          }
          resolve({ status: res.statusCode!, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    body.on('error', reject);
    body.pipe(req);
  });
}

async function upload(fileName: string, size: number) {
  const body = multipartUpload(
    { ticketid: String(stores.seed.ticketId), message: `attached: ${fileName}` },
    fileName,
    size,
  );
  const res = await postStream('/api/v2/add-ticket-reply', body.contentType, body.stream);
  return { ...res, sha256: body.sha256() };
}

beforeAll(async () => {
  stores = await createTestStores();
  redis = createRedis(redisUrl(), 'producer');
  const secret = randomBytes(32).toString('hex');
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [BIN, 'serve', '--ingress'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: stores.database.url,
      REDIS_URL: redisUrl(),
      TICKETFLOW_QUEUE_PREFIX: stores.prefix,
      TICKETFLOW_JWT_SECRET: secret,
      PORT: String(port),
      TICKETFLOW_ACCESS_LOG: 'false',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (part: Buffer) => (output += part.toString()));
  child.stderr!.on('data', (part: Buffer) => (output += part.toString()));
  token = signToken({
    secret,
    audience: 'ticketflow',
    issuer: undefined,
    role: 'client',
    sub: `client-${stores.seed.clientId}`,
    clientid: stores.seed.clientId,
    ttlSeconds: 600,
  });
  await waitUntilReady();
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  redis?.disconnect();
  await stores?.drop();
});

describe('a 10 MiB multipart upload through the real ingress process', () => {
  it('streams into the blob store without holding the file, and enqueues only a reference', async () => {
    // Warm-up: load every module and JIT the hot paths a first upload would otherwise pay for.
    for (const size of [1, 300 * KiB, MiB]) {
      expect((await upload(`warmup-${size}.txt`, size)).status).toBe(200);
    }
    const before = memoryOf(child.pid!);

    const sent = await upload('big.png', UPLOAD_BYTES);

    const after = memoryOf(child.pid!);
    const growth = after.hwm - before.hwm;
    const mib = (bytes: number) => (bytes / MiB).toFixed(1);
    const replyid = sent.json.replyid as string;
    const jobKey = `${stores.prefix}:replies:reply-${replyid}`;
    const job = await redis.hgetallBuffer(jobKey);
    const jobBytes = Object.entries(job).reduce(
      (sum, [field, value]) => sum + Buffer.byteLength(field) + value.length,
      0,
    );
    console.log(
      `ingress VmHWM ${mib(before.hwm)} → ${mib(after.hwm)} MiB during a ${mib(UPLOAD_BYTES)} MiB ` +
        `upload: growth ${mib(growth)} MiB = ${(growth / CHUNK).toFixed(1)} × the 256 KiB chunk ` +
        `(VmRSS ${mib(before.rss)} → ${mib(after.rss)} MiB); job in Redis ${jobBytes} bytes`,
    );

    expect(sent.status).toBe(200);
    expect(sent.json).toMatchObject({ result: 'success', status: 'queued' });
    // No worker runs in --ingress mode, so the bytes are checked where the ingress staged them.
    const blob = await stores.database
      .db('attachment_blobs')
      .where({ sha256: sent.sha256 })
      .first<{ size: string; upload_id: string } | undefined>();
    expect(Number(blob?.size)).toBe(UPLOAD_BYTES);
    const [stored] = await stores.database
      .db('attachment_chunks')
      .where({ upload_id: blob!.upload_id })
      .select<{ bytes: string; chunks: string }[]>(
        stores.database.db.raw('sum(octet_length(bytes)) as bytes, count(*) as chunks'),
      );
    expect(Number(stored!.bytes)).toBe(UPLOAD_BYTES);
    expect(Number(stored!.chunks)).toBe(UPLOAD_BYTES / CHUNK);
    // The job carries the blob's hash and size, never its bytes (ARCHITECTURE.md guarantee 6).
    expect(job.data?.toString()).toContain(sent.sha256);
    expect(jobBytes).toBeLessThan(2 * KiB);
    // A bound that tells streaming from buffering (the target itself lives in `npm run bench`):
    // streamed, the growth measured 27–29 MiB, mostly garbage not yet collected (each byte is
    // copied by busboy, the chunk concat and the pg Bind message) that plateaus near +30 MiB over
    // repeated uploads; the same 10 MiB sent as base64 in a JSON body (read whole, decoded, then
    // staged) measured about +63 MiB.
    expect(growth).toBeLessThan(48 * MiB);
  });
});
