export { startReplyWorker, type ReplyWorker, type ReplyWorkerOptions } from './reply-worker.ts';
