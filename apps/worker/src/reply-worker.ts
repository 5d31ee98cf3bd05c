import type { Logger } from 'pino';
import type { JobCatalog, RedisClient } from '@ticketflow/queue';
import type { Db } from '@ticketflow/db';
import type { HitFault } from './fault-points.ts';
import {
  createReplyProcessor,
  type ReplyProcessorDeps,
  type ReplyResult,
} from './process-reply.ts';
import {
  startQueueWorker,
  type QueueWorker,
  type QueueWorkerOptions,
} from './start-queue-worker.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface ReplyWorkerOptions extends ReplyProcessorDeps {
  db: Db;
  catalog: JobCatalog;
  connection: RedisClient;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  logger: Logger;
  hitFault: HitFault;
  watchdog?: QueueWorkerOptions['watchdog'];
  metrics?: WorkerMetrics;
}

/** The reply worker: {@link createReplyProcessor} on the catalog's `replies` queue. */
export function startReplyWorker(options: ReplyWorkerOptions): QueueWorker {
  const started = startQueueWorker(options.catalog.replies, createReplyProcessor(options), options);
  // The reply's persistence, under the request id it arrived with (no message text at info).
  started.worker.on('completed', (job, result: ReplyResult) =>
    options.logger.info(
      {
        queue: job.queueName,
        jobId: job.id,
        replyid: result.replyid,
        requestId: (job.data as { requestId?: string }).requestId,
        outcome: result.outcome,
        notifications: result.notifications,
      },
      'reply stored',
    ),
  );
  const { metrics } = options;
  if (metrics) {
    started.worker.on('completed', (_job, result: ReplyResult) =>
      metrics.replyStored(result.outcome),
    );
  }
  return started;
}
