import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { JobCatalog } from '@ticketflow/queue';
import type { Db } from '@ticketflow/db';
import type { HitFault } from './fault-points.ts';
import { createReplyProcessor, type ReplyProcessorDeps } from './process-reply.ts';
import { startQueueWorker, type QueueWorker } from './start-queue-worker.ts';

export interface ReplyWorkerOptions extends ReplyProcessorDeps {
  db: Db;
  catalog: JobCatalog;
  connection: Redis;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  logger: Logger;
  hitFault: HitFault;
}

/** The reply worker: {@link createReplyProcessor} on the catalog's `replies` queue. */
export function startReplyWorker(options: ReplyWorkerOptions): QueueWorker {
  return startQueueWorker(options.catalog.replies, createReplyProcessor(options), options);
}
