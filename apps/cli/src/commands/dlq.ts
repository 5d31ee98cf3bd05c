import type { Config } from '@ticketflow/config';
import { describeDeadReason, readNotificationJob, redactJobData } from '@ticketflow/contract';
import {
  findDeadLetterById,
  listDeadLetters,
  purgeDeadLetters,
  type StoredDeadLetter,
} from '@ticketflow/db';
import { catalogQueues, jobCatalog, type JobCatalog } from '@ticketflow/queue';
import { CliFailure } from '../runtime.ts';
import { formatTime, printListing } from './print-listing.ts';
import { parseAge, parseId, parseQueueName } from './parse-arguments.ts';
import { withDb } from './with-db.ts';

/** Prints dead letters, newest first, replayed ones too (with the time). */
export async function listDlq(
  config: Config,
  options: { queue?: string; json: boolean },
): Promise<void> {
  const catalog = jobCatalog(config);
  const queue =
    options.queue === undefined
      ? undefined
      : parseQueueName(options.queue, catalogQueues(catalog)).name;
  const letters = await withDb(config, (db) => listDeadLetters(db, queue ? { queue } : {}));
  const listed = letters.map((letter) => ({
    id: letter.id,
    queue: letter.queue,
    jobId: letter.jobId,
    name: letter.name,
    ...subjectOf(letter, catalog),
    reason: letter.reason,
    attempts: letter.attempts,
    failedAt: letter.failedAt,
    replayedAt: letter.replayedAt,
  }));
  printListing(listed, {
    json: options.json,
    key: 'deadLetters',
    none: 'no dead letters',
    header: [
      'ID',
      'QUEUE',
      'JOB-ID',
      'REPLYID/OUTBOX',
      'REASON',
      'ATTEMPTS',
      'FAILED-AT',
      'REPLAYED-AT',
    ],
    cells: (l) => [
      String(l.id),
      l.queue,
      l.jobId,
      l.replyid ?? l.outboxId ?? '-',
      l.reason,
      String(l.attempts),
      formatTime(l.failedAt),
      formatTime(l.replayedAt),
    ],
  });
}

/**
 * Prints one dead letter as JSON, with the raw error (this is the operator's tool) and the
 * payload redacted as the dashboard shows jobs ({@link redactJobData}), unless `full`.
 */
export async function showDlq(
  config: Config,
  idText: string,
  options: { full: boolean },
): Promise<void> {
  const id = parseDeadLetterId(idText);
  const letter = await withDb(config, (db) => findDeadLetterById(db, id));
  if (!letter) throw noDeadLetter(id);
  const shown = {
    id: letter.id,
    queue: letter.queue,
    jobId: letter.jobId,
    name: letter.name,
    reason: letter.reason,
    description: describeDeadReason(letter.reason),
    error: letter.error,
    attempts: letter.attempts,
    failedAt: letter.failedAt,
    replayedAt: letter.replayedAt,
    payload: options.full ? letter.payload : redactJobData(letter.payload),
  };
  process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
}

/** Deletes dead letters older than the age given and prints how many went. */
export async function purgeDlq(config: Config, options: { olderThan: string }): Promise<void> {
  const before = new Date(Date.now() - parseAge(options.olderThan, '--older-than'));
  const deleted = await withDb(config, (db) => purgeDeadLetters(db, before));
  process.stdout.write(
    `deleted ${deleted} dead letters that failed before ${before.toISOString()}\n`,
  );
}

/** The `<id>` argument of the `dlq` subcommands. */
export function parseDeadLetterId(text: string): number {
  return parseId(text, 'the dead letter id');
}

/** The failed check of every subcommand given an id no dead letter has. */
export function noDeadLetter(id: number): CliFailure {
  return new CliFailure(`no dead letter ${id}`);
}

/** What the job was about: the reply of a reply job, the outbox row of a notification. */
function subjectOf(
  letter: StoredDeadLetter,
  catalog: JobCatalog,
): { replyid: string | null; outboxId: string | null } {
  const payload = letter.payload as { replyid?: unknown } | null;
  const replyid =
    letter.queue === catalog.replies.name && typeof payload?.replyid === 'string'
      ? payload.replyid
      : null;
  const outboxId =
    letter.queue === catalog.notifications.name
      ? (readNotificationJob(letter.payload)?.outboxId ?? null)
      : null;
  return { replyid, outboxId };
}
