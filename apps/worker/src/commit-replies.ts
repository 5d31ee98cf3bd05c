import { allOk, batchCalls, type Settled } from '@ticketflow/batch';
import {
  insertReplies,
  insertReply,
  type Db,
  type NewReply,
  type StoreResult,
} from '@ticketflow/db';

/**
 * Group commit: replies that reach the database together are stored in one transaction
 * (per-row dedupe keeps exactly-once), so throughput is not bounded by one commit per job.
 * If the batch fails, each reply is retried alone, so one bad row (a client that does not
 * exist, a reused reply id) fails only its own job.
 */
export function createReplyCommitter(db: Db): (reply: NewReply) => Promise<StoreResult> {
  return batchCalls(
    async (replies: NewReply[]): Promise<Settled<StoreResult>[]> => {
      if (replies.length > 1) {
        try {
          return allOk(await insertReplies(db, replies));
        } catch {
          // Fall through: find the row that failed by storing each on its own.
        }
      }
      return Promise.all(
        replies.map((reply) =>
          insertReply(db, reply).then(
            (value): Settled<StoreResult> => ({ ok: true, value }),
            (error: unknown): Settled<StoreResult> => ({ ok: false, error }),
          ),
        ),
      );
    },
    { maxBatch: 64, maxInFlight: 2 },
  );
}
