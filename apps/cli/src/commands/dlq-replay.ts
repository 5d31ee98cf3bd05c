import type { Queue } from 'bullmq';
import type { Config } from '@ticketflow/config';
import { findDeadLetterById, listDeadLetters } from '@ticketflow/db';
import {
  catalogQueues,
  jobCatalog,
  openQueue,
  type JobCatalog,
  type QueueDefinition,
} from '@ticketflow/queue';
import { replayDeadLetter } from '@ticketflow/worker';
import { CliFailure } from '../runtime.ts';
import { noDeadLetter, parseDeadLetterId } from './dlq.ts';
import { parseQueueName } from './parse-arguments.ts';
import { UsageError } from './usage-error.ts';
import { withDb } from './with-db.ts';
import { withRedis } from './with-redis.ts';

interface ReplayOptions {
  all: boolean;
  queue?: string;
}

/** The progress line is rewritten at most this often, so a large replay does not flood a terminal. */
const PROGRESS_EVERY_MS = 250;

/**
 * Replays one dead letter, or every unreplayed one (of one queue). Replaying is safe however
 * often it happens: a reply's dedupe key stores it at most once, and a notification's delivery
 * record sends it at most once.
 */
export async function replayDlq(
  config: Config,
  idText: string | undefined,
  options: ReplayOptions,
): Promise<void> {
  if ((idText === undefined) === !options.all) {
    throw new UsageError('dlq replay takes a dead letter id, or --all, but not both');
  }
  if (options.queue !== undefined && !options.all) throw new UsageError('--queue goes with --all');
  const catalog = jobCatalog(config);
  if (idText !== undefined) {
    await replayOne(config, catalog, parseDeadLetterId(idText));
    return;
  }
  const queue =
    options.queue === undefined
      ? undefined
      : parseQueueName(options.queue, catalogQueues(catalog)).name;
  await replayAll(config, catalog, queue);
}

async function replayOne(config: Config, catalog: JobCatalog, id: number): Promise<void> {
  await withDb(config, async (db) => {
    const letter = await findDeadLetterById(db, id);
    if (!letter) throw noDeadLetter(id);
    if (letter.replayedAt) {
      throw new CliFailure(
        `dead letter ${id} was already replayed at ${letter.replayedAt.toISOString()}`,
      );
    }
    const how = await withCatalogQueues(config, (queueFor) =>
      replayDeadLetter(db, queueFor, catalog, letter),
    );
    process.stdout.write(
      `replayed dead letter ${id}: ${how === 'retried' ? 'retried the failed' : 're-added the'} job ${letter.jobId} on ${letter.queue}\n`,
    );
  });
}

async function replayAll(
  config: Config,
  catalog: JobCatalog,
  queue: string | undefined,
): Promise<void> {
  await withDb(config, async (db) => {
    // Oldest first: the order the jobs first failed in.
    const letters = (
      await listDeadLetters(db, { unreplayedOnly: true, ...(queue ? { queue } : {}) })
    ).reverse();
    if (letters.length === 0) {
      process.stdout.write('no dead letters to replay\n');
      return;
    }
    const failures = await withCatalogQueues(config, async (queueFor) => {
      const progress = progressLine(letters.length);
      const failed: string[] = [];
      for (const [i, letter] of letters.entries()) {
        try {
          await replayDeadLetter(db, queueFor, catalog, letter);
        } catch (error) {
          failed.push(`dead letter ${letter.id}: ${(error as Error).message}`);
        }
        progress(i + 1);
      }
      return failed;
    });
    for (const failure of failures) process.stderr.write(failure + '\n');
    const replayed = letters.length - failures.length;
    process.stdout.write(`replayed ${replayed} of ${letters.length} dead letters\n`);
    if (failures.length > 0) {
      throw new CliFailure(`${failures.length} dead letters could not be replayed (listed above)`);
    }
  });
}

/**
 * Runs `work` with a producer connection and each catalog queue it asks for, opened once on
 * first use; every queue opened is closed afterwards.
 */
async function withCatalogQueues<T>(
  config: Config,
  work: (queueFor: (definition: QueueDefinition) => Queue) => Promise<T>,
): Promise<T> {
  return withRedis(config, async (redis) => {
    const opened = new Map<string, Queue>();
    const queueFor = (definition: QueueDefinition) => {
      let queue = opened.get(definition.name);
      if (!queue) {
        queue = openQueue(definition, redis, config.queuePrefix);
        opened.set(definition.name, queue);
      }
      return queue;
    };
    try {
      return await work(queueFor);
    } finally {
      await Promise.all([...opened.values()].map((q) => q.close()));
    }
  });
}

/**
 * `replayed 120/480` on stderr, rewritten in place; the last call (done = total) ends the line,
 * so what follows starts on its own.
 */
function progressLine(total: number): (done: number) => void {
  let shownAt = 0;
  return (done) => {
    const now = Date.now();
    if (done < total && now - shownAt < PROGRESS_EVERY_MS) return;
    shownAt = now;
    process.stderr.write(`\rreplayed ${done}/${total}${done === total ? '\n' : ''}`);
  };
}
