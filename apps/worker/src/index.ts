export { startWorkers, type Workers } from './start-workers.ts';
export { newWebhookSecret, isWebhookSecret } from './webhooks/sign-webhook.ts';
export { checkWebhookUrl } from './webhooks/webhook-address.ts';
export { mailDomain } from './email/mail-domain.ts';
export { createNotificationDispatcher } from './dispatch-notifications.ts';
