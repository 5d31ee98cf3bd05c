export { startReplyWorker, type ReplyWorker } from './reply-worker.ts';
export { startMaintenanceWorker } from './maintenance-worker.ts';
