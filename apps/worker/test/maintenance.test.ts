import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgBlobStore, type BlobStore } from '@ticketflow/db';
import {
  DISPATCH_OUTBOX_JOB,
  MAINTENANCE_QUEUE,
  PURGE_RECORDS_JOB,
  RECONCILE_DEAD_LETTERS_JOB,
  SWEEP_BLOBS_JOB,
  createRedis,
  openQueue,
} from '@ticketflow/queue';
import { redisUrl } from '@ticketflow/testing';
import { createNotificationDispatcher } from '../src/dispatch-notifications.ts';
import { faultPoints } from '../src/fault-points.ts';
import { startMaintenanceWorker } from '../src/maintenance-worker.ts';
import type { QueueWorker } from '../src/start-queue-worker.ts';
import { CATALOG, LOCK_MS, STALLED_MS, until, useTestStores } from './worker-fixture.ts';

/** Short, so a sweep runs within a second instead of the production hour. */
const EVERY_MS = 500;
const GRACE_MS = 60_000;
const RETENTION_DAYS = 30;
/** How long a blob waits for its sweep before the test gives up. */
const DEADLINE_MS = 10_000;

const stores = useTestStores();
let blobs: BlobStore;
let queue: Queue;
const workers: QueueWorker[] = [];
const connection = createRedis(redisUrl(), 'worker');
/** Everything the workers log, so a failed schedule or sweep shows up as a failed assertion. */
const logged: Array<{ level: number; msg: string }> = [];
const logger = pino(
  { level: 'info' },
  { write: (line: string) => logged.push(JSON.parse(line) as { level: number; msg: string }) },
);

beforeAll(() => {
  blobs = createPgBlobStore(stores.db);
  queue = new Queue(MAINTENANCE_QUEUE, { connection, prefix: stores.prefix });
});

// Runs before useTestStores' cleanup (vitest runs afterAll hooks last-registered first).
afterAll(async () => {
  for (const worker of workers) await worker.close(5000);
  await queue?.close();
  connection.disconnect();
});

/** Stages a blob as the ingress would, then moves it `ms` into the past. */
async function stageBlob(ageMs: number): Promise<string> {
  const { sha256 } = await blobs.write(randomBytes(300 * 1024), Number.MAX_SAFE_INTEGER, () => {
    return new Error('too large');
  });
  const then = new Date(Date.now() - ageMs);
  const [row] = await stores
    .db('attachment_blobs')
    .where({ sha256 })
    .update({ created_at: then })
    .returning<{ upload_id: string }[]>('upload_id');
  await stores
    .db('attachment_chunks')
    .where({ upload_id: row!.upload_id })
    .update({ created_at: then });
  return sha256;
}

/** Points a reply on the demo ticket at the blob, as the worker's reply transaction does. */
async function referenceBlob(sha256: string): Promise<void> {
  const [reply] = await stores
    .db('ticket_replies')
    .insert({
      reply_uid: randomUUID(),
      dedupe_key: randomUUID(),
      ticket_id: stores.seed.ticketId,
      client_id: stores.seed.clientId,
      contact_id: stores.seed.contactId,
      message: 'log attached',
      message_html: '<p>log attached</p>',
      editor: 'plain',
      created_at: new Date(),
      source: 'api',
      source_principal: 'test',
      received_at: new Date(),
    })
    .returning<{ id: number }[]>('id');
  await stores.db('reply_attachments').insert({
    reply_id: reply!.id,
    position: 1,
    stored_name: '123456_log.txt',
    original_name: 'log.txt',
    sha256,
  });
}

async function blobExists(sha256: string): Promise<boolean> {
  return (await stores.db('attachment_blobs').where({ sha256 }).first()) !== undefined;
}

/** Records a message as the email bridge does, last read `daysAgo`. */
async function recordInboundEmail(daysAgo: number): Promise<string> {
  const dedupeKey = `email:support:<${randomUUID()}@example.test>`;
  await stores.db('inbound_emails').insert({
    dedupe_key: dedupeKey,
    mailbox: 'support',
    outcome: 'dropped',
    last_seen_at: new Date(Date.now() - daysAgo * 86_400_000),
  });
  return dedupeKey;
}

async function inboundEmailExists(dedupeKey: string): Promise<boolean> {
  return (await stores.db('inbound_emails').where({ dedupe_key: dedupeKey }).first()) !== undefined;
}

describe('the maintenance worker', () => {
  let loose: string;
  let referenced: string;
  let fresh: string;
  let staleEmail: string;
  let recentEmail: string;
  let sweeps = 0;

  beforeAll(async () => {
    loose = await stageBlob(2 * GRACE_MS);
    referenced = await stageBlob(2 * GRACE_MS);
    await referenceBlob(referenced);
    fresh = await stageBlob(0);
    staleEmail = await recordInboundEmail(RETENTION_DAYS + 1);
    recentEmail = await recordInboundEmail(RETENTION_DAYS - 1);
    // Two workers (two processes in production), each upserting the schedule as it starts.
    const notifications = openQueue(CATALOG.notifications, connection, stores.prefix);
    const options = {
      db: stores.db,
      blobs,
      catalog: CATALOG,
      connection,
      prefix: stores.prefix,
      blobGraceMs: GRACE_MS,
      blobSweepEveryMs: EVERY_MS,
      // The outbox and dead-letter sweeps have their own tests; here they stay out of the way.
      outboxSweepMs: 3_600_000,
      inboundEmailRetentionDays: RETENTION_DAYS,
      purgeEveryMs: EVERY_MS,
      dispatch: createNotificationDispatcher(notifications, CATALOG.notifications, stores.db),
      logger,
      hitFault: faultPoints([]),
      lockDurationMs: LOCK_MS,
      stalledIntervalMs: STALLED_MS,
    };
    workers.push(startMaintenanceWorker(options), startMaintenanceWorker(options));
    for (const { worker } of workers) {
      worker.on('completed', (job) => {
        if (job.name === SWEEP_BLOBS_JOB) sweeps++;
      });
    }
  });

  /** Resolves once `n` more sweeps have completed than when it was called. */
  async function moreSweeps(n: number): Promise<void> {
    const target = sweeps + n;
    await until(
      `${n} more sweeps complete`,
      async () => Promise.resolve(sweeps >= target),
      DEADLINE_MS,
    );
  }

  it('removes an unreferenced blob older than the grace period within seconds', async () => {
    await until(
      'the old unreferenced blob is swept',
      async () => !(await blobExists(loose)),
      DEADLINE_MS,
    );
    expect(await blobs.read(loose)).toBeUndefined();
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: 'swept unreferenced attachment blobs', blobs: 1 }),
    );
  });

  it('keeps an old blob a reply references, and a fresh unreferenced one', async () => {
    await moreSweeps(2);
    expect((await blobs.read(referenced))?.length).toBe(300 * 1024);
    expect(await blobExists(fresh)).toBe(true);
  });

  it('purges an inbound email last read before the retention, and keeps a recent one', async () => {
    await until(
      'the old inbound email is purged',
      async () => !(await inboundEmailExists(staleEmail)),
      DEADLINE_MS,
    );
    expect(await inboundEmailExists(recentEmail)).toBe(true);
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: 'purged old inbound emails and expired idempotency keys',
        inboundEmails: 1,
      }),
    );
  });

  it('keeps one job scheduler per maintenance job however many workers start', async () => {
    // Any sweep that completes now started long after both workers' upserts had landed.
    await moreSweeps(2);
    expect(await queue.getJobSchedulersCount()).toBe(4);
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual(
      [DISPATCH_OUTBOX_JOB, PURGE_RECORDS_JOB, RECONCILE_DEAD_LETTERS_JOB, SWEEP_BLOBS_JOB].sort(),
    );
    expect(schedulers).toContainEqual(
      expect.objectContaining({ key: SWEEP_BLOBS_JOB, name: SWEEP_BLOBS_JOB, every: EVERY_MS }),
    );
  });

  it('logs no errors and fails no sweep', async () => {
    expect(await queue.getFailedCount()).toBe(0);
    expect(logged.filter((line) => line.level >= 50)).toEqual([]);
  });
});
