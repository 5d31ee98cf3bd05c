export { startWorkers, type Workers } from './start-workers.ts';
export { newWebhookSecret, isWebhookSecret } from './webhooks/sign-webhook.ts';
export { checkWebhookUrl, isPublicAddress } from './webhooks/webhook-address.ts';
export { mailDomain } from './email/mail-domain.ts';
export { verifySmtp } from './email/verify-smtp.ts';
export { createNotificationDispatcher } from './dispatch-notifications.ts';
export { replayDeadLetter } from './replay-dead-letter.ts';
