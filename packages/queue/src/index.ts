export { createRedis, isRedisReady, waitForRedis } from './redis-connection.ts';
export {
  createReplyQueue,
  createReplyQueueEvents,
  replyJobOptions,
  type ReplyQueue,
  type ReplyJobPolicy,
} from './reply-queue.ts';
