import type { Config } from '@ticketflow/config';
import { REPLY_QUEUE, replyJobId } from '@ticketflow/contract';
import { findDeadLetter, readReplyHistory } from '@ticketflow/db';
import { findReplyState, readReplyId } from '@ticketflow/ingress';
import { jobCatalog, openQueue, type ReplyQueue } from '@ticketflow/queue';
import { CliFailure } from '../runtime.ts';
import { formatReplyStory, tellReplyStory, type ReplyJobFacts } from './reply-story.ts';
import { UsageError } from './usage-error.ts';
import { withDb } from './with-db.ts';
import { withRedis } from './with-redis.ts';

/**
 * `ticketflow reply <replyid> [--json]`: the reply's state as `GET /api/v2/replies/:replyid`
 * computes it, then its whole story: accepted, each attempt, persisted, every notification with
 * its webhook attempts, and its dead letter. Exit 1 when no trace of the reply exists.
 */
export async function reply(config: Config, id: string, options: { json: boolean }): Promise<void> {
  const replyid = readReplyId(id);
  if (!replyid) throw new UsageError(`reply: ${JSON.stringify(id)} is not a reply id (a UUID)`);
  const jobId = replyJobId(replyid);
  const story = await withDb(config, (db) =>
    withRedis(config, async (redis) => {
      const queue = openQueue<ReplyQueue>(jobCatalog(config).replies, redis, config.queuePrefix);
      try {
        const state = await findReplyState(db, { queue, redis }, replyid);
        if (!state) return undefined;
        const job = await queue.getJob(jobId);
        const jobFacts: ReplyJobFacts | undefined = job && {
          id: job.id ?? jobId,
          state: await job.getState(),
          timestamp: job.timestamp,
          attemptsMade: job.attemptsMade,
          attemptsAllowed: job.opts.attempts ?? 1,
          processedOn: job.processedOn,
          finishedOn: job.finishedOn,
          failedReason: job.failedReason,
          stacktrace: job.stacktrace ?? [],
          data: job.data,
        };
        return tellReplyStory(replyid, state, {
          job: jobFacts,
          history: await readReplyHistory(db, replyid),
          dead: await findDeadLetter(db, REPLY_QUEUE, jobId),
        });
      } finally {
        await queue.close();
      }
    }),
  );
  if (!story) {
    throw new CliFailure(
      `reply ${replyid}: unknown (no stored reply, job or dead letter has this id)`,
    );
  }
  process.stdout.write(options.json ? `${JSON.stringify(story)}\n` : formatReplyStory(story));
}
