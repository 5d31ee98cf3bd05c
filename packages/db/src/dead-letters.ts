import type { Db } from './connect.ts';

export interface DeadLetter {
  queue: string;
  jobId: string;
  name: string;
  payload: unknown;
  error: string;
  attempts: number;
}

/** Records a job's final failure; one row per (queue, job id), refreshed if it dies again. */
export async function recordDeadLetter(db: Db, letter: DeadLetter): Promise<void> {
  await db('dead_letters')
    .insert({
      queue: letter.queue,
      job_id: letter.jobId,
      name: letter.name,
      payload: JSON.stringify(letter.payload, withoutNul),
      error: withoutNul('', letter.error),
      attempts: letter.attempts,
    })
    .onConflict(['queue', 'job_id'])
    .merge({
      error: withoutNul('', letter.error),
      attempts: letter.attempts,
      failed_at: db.fn.now(),
      replayed_at: null,
    });
}

export async function findDeadLetter(
  db: Db,
  queue: string,
  jobId: string,
): Promise<{ error: string; failedAt: Date; attempts: number; payload: unknown } | undefined> {
  const row = await db('dead_letters')
    .where({ queue, job_id: jobId })
    .first<{ error: string; failed_at: Date; attempts: number; payload: unknown } | undefined>(
      'error',
      'failed_at',
      'attempts',
      'payload',
    );
  return (
    row && {
      error: row.error,
      failedAt: row.failed_at,
      attempts: row.attempts,
      payload: row.payload,
    }
  );
}

/**
 * jsonb refuses U+0000, and a job that died of one must still be recorded: the character is
 * replaced in the stored copy (the original stays in BullMQ's failed set).
 */
function withoutNul(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.replaceAll('\u0000', '\uFFFD') : value;
}
