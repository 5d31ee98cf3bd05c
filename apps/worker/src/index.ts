export { startReplyWorker, type ReplyWorker, type ReplyWorkerOptions } from './reply-worker.ts';
export { startMaintenanceWorker, type MaintenanceWorkerOptions } from './maintenance-worker.ts';
