export {
  createRedis,
  isRedisReady,
  masterNodes,
  waitForRedis,
  type RedisClient,
} from './redis-connection.ts';
export {
  jobCatalog,
  catalogQueues,
  MAINTENANCE_QUEUE,
  SWEEP_BLOBS_JOB,
  DISPATCH_OUTBOX_JOB,
  RECONCILE_DEAD_LETTERS_JOB,
  PURGE_RECORDS_JOB,
  SCHEDULE_BACKOFF,
  type CatalogPolicy,
  type JobCatalog,
  type JobDefinition,
  type QueueDefinition,
} from './job-catalog.ts';
export { openQueue, openQueueEvents, jobOptions, type ReplyQueue } from './open-queue.ts';
export { FinalJobError } from './final-job-error.ts';
export { settleWithin } from './settle-within.ts';
