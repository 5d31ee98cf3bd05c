export { createRedis, isRedisReady, waitForRedis } from './redis-connection.ts';
export {
  createReplyQueue,
  createReplyQueueEvents,
  replyJobOptions,
  type ReplyQueue,
} from './reply-queue.ts';
export { MAINTENANCE_QUEUE, SWEEP_BLOBS_JOB, scheduleBlobSweep } from './maintenance-queue.ts';
export { settleWithin } from './settle-within.ts';
