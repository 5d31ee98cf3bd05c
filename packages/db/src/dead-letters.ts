import type { Db } from './connect.ts';

export interface DeadLetter {
  queue: string;
  jobId: string;
  name: string;
  payload: unknown;
  /** The public reason code (the contract's dead reasons). */
  reason: string;
  /** The raw error, for ops only. */
  error: string;
  attempts: number;
  /** When BullMQ failed the job; now when recorded by the worker itself. */
  failedAt?: Date;
}

/** A dead letter as ops see it. */
export interface StoredDeadLetter extends Required<DeadLetter> {
  id: number;
  replayedAt: Date | null;
}

/**
 * Records a job's final failure, as the worker sees it: one row per (queue, job id). A later
 * failure of the same job (after a replay) refreshes the row and clears `replayed_at`.
 */
export async function recordDeadLetter(db: Db, letter: DeadLetter): Promise<void> {
  await upsertDeadLetter(db, letter, 'true');
}

/**
 * Records a failure found in BullMQ's failed set (a worker that died before writing it, a job
 * failed by the stalled-job check). A row the worker wrote stays as it is, unless it was
 * replayed before this failure: the reconciler may run any number of times.
 */
export async function reconcileDeadLetter(db: Db, letter: DeadLetter): Promise<void> {
  await upsertDeadLetter(
    db,
    letter,
    'dead_letters.replayed_at IS NOT NULL AND dead_letters.replayed_at < EXCLUDED.failed_at',
  );
}

async function upsertDeadLetter(db: Db, letter: DeadLetter, when: string): Promise<void> {
  await db.raw(
    `INSERT INTO dead_letters (queue, job_id, name, payload, reason, error, attempts, failed_at)
     VALUES (?, ?, ?, ?::jsonb, ?, ?, ?, COALESCE(?::timestamptz, now()))
     ON CONFLICT (queue, job_id) DO UPDATE SET reason = EXCLUDED.reason, error = EXCLUDED.error,
       attempts = EXCLUDED.attempts, failed_at = EXCLUDED.failed_at, replayed_at = NULL,
       payload = EXCLUDED.payload
     WHERE ${when}`,
    [
      letter.queue,
      letter.jobId,
      letter.name,
      JSON.stringify(letter.payload ?? null, withoutNul),
      letter.reason,
      withoutNul('', letter.error) as string,
      letter.attempts,
      letter.failedAt ?? null,
    ],
  );
}

export async function findDeadLetter(
  db: Db,
  queue: string,
  jobId: string,
): Promise<StoredDeadLetter | undefined> {
  const row = await db('dead_letters')
    .where({ queue, job_id: jobId })
    .first<DeadLetterRow | undefined>();
  return row && toDeadLetter(row);
}

export async function findDeadLetterById(
  db: Db,
  id: number,
): Promise<StoredDeadLetter | undefined> {
  const row = await db('dead_letters').where({ id }).first<DeadLetterRow | undefined>();
  return row && toDeadLetter(row);
}

/** Newest first; `queue` narrows to one queue; replayed rows are listed too (with the time). */
export async function listDeadLetters(
  db: Db,
  options: { queue?: string; limit?: number; unreplayedOnly?: boolean } = {},
): Promise<StoredDeadLetter[]> {
  const query = db('dead_letters').orderBy([
    { column: 'failed_at', order: 'desc' },
    { column: 'id', order: 'desc' },
  ]);
  if (options.queue) void query.where({ queue: options.queue });
  if (options.unreplayedOnly) void query.whereNull('replayed_at');
  if (options.limit) void query.limit(options.limit);
  return (await query.select<DeadLetterRow[]>()).map(toDeadLetter);
}

export async function markDeadLetterReplayed(db: Db, id: number): Promise<void> {
  await db('dead_letters').where({ id }).update({ replayed_at: db.fn.now() });
}

/** Deletes rows that failed before `before`; answers how many. */
export async function purgeDeadLetters(db: Db, before: Date): Promise<number> {
  return db('dead_letters').where('failed_at', '<', before).delete();
}

interface DeadLetterRow {
  id: number;
  queue: string;
  job_id: string;
  name: string;
  payload: unknown;
  reason: string | null;
  error: string;
  attempts: number;
  failed_at: Date;
  replayed_at: Date | null;
}

function toDeadLetter(row: DeadLetterRow): StoredDeadLetter {
  return {
    id: row.id,
    queue: row.queue,
    jobId: row.job_id,
    name: row.name,
    payload: row.payload,
    reason: row.reason ?? 'retries_exhausted',
    error: row.error,
    attempts: row.attempts,
    failedAt: row.failed_at,
    replayedAt: row.replayed_at,
  };
}

/**
 * jsonb refuses U+0000, and a job that died of one must still be recorded: the character is
 * replaced in the stored copy (the original stays in BullMQ's failed set).
 */
function withoutNul(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.replaceAll('\u0000', '\uFFFD') : value;
}
