import { batchCalls, eachOnFailure } from '@ticketflow/batch';
import {
  insertReplies,
  insertReply,
  type Db,
  type NewReply,
  type StoreResult,
} from '@ticketflow/db';

/** What committing one reply answers: undefined when its ticket does not exist. */
type CommitResult = StoreResult | undefined;

/**
 * Group commit: replies that reach the database together are stored in one transaction
 * (per-row dedupe keeps exactly-once), so throughput is not bounded by one commit per job.
 * If the batch fails, each reply is retried alone, so one bad row (a client that does not
 * exist, a reused reply id) fails only its own job.
 *
 * One batch at a time: replies that arrive while a batch commits wait and go together in the
 * next, so batches grow with the commit's latency, and a reply that finds nothing in flight
 * commits at once. Two in flight split the same replies into batches of half the size, and on
 * a shared ticket the second only waits in PostgreSQL for the first one's row lock. Measured
 * at concurrency 10 and 64: on one ticket, two in flight cost up to twice the PostgreSQL CPU
 * per reply and drained slower; over 100 tickets they drained no faster, for more CPU.
 */
export function createReplyCommitter(db: Db): (reply: NewReply) => Promise<CommitResult> {
  return batchCalls(
    eachOnFailure<NewReply, CommitResult>(
      (replies) => insertReplies(db, replies),
      (reply) => insertReply(db, reply),
    ),
    { maxBatch: 64, maxInFlight: 1 },
  );
}
