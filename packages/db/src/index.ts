export { createDb, ensureDatabase, migrateLatest, pendingMigrations, type Db } from './connect.ts';
export {
  findTicket,
  createTicketLookup,
  clientExists,
  contactBelongsTo,
  findStatusTitle,
  getTicketDetail,
  type TicketRef,
  type TicketSummary,
} from './tickets.ts';
export {
  insertReply,
  insertReplies,
  listReplies,
  findReply,
  REPLY_CREATED_EVENT,
  type NewReply,
  type InsertOutcome,
  type OutboxRef,
  type StoreResult,
  type StoredReply,
} from './replies.ts';
export {
  recordDeadLetter,
  reconcileDeadLetter,
  findDeadLetter,
  findDeadLetterById,
  listDeadLetters,
  markDeadLetterReplayed,
  purgeDeadLetters,
  type DeadLetter,
  type StoredDeadLetter,
} from './dead-letters.ts';
export {
  createDeliveryStore,
  loadDeliveries,
  recordDeliveries,
  markDispatched,
  findUndispatched,
  markDeliveryFailed,
  reopenDelivery,
  insertTestEvent,
  type Delivery,
  type DeliveryRecord,
  type DeliveryStore,
  type NotifiedReply,
} from './outbox.ts';
export {
  addWebhookEndpoint,
  listWebhookEndpoints,
  findWebhookEndpoint,
  removeWebhookEndpoint,
  setWebhookEndpointEnabled,
  noteEndpointFailure,
  recordWebhookAttempt,
  listWebhookAttempts,
  type WebhookEndpoint,
} from './webhook-endpoints.ts';
export { seedDemo, type DemoSeed } from './seed-demo.ts';
export { readReplyHistory, type ReplyHistory, type ReplyNotification } from './reply-history.ts';
export {
  claimIdempotencyKey,
  completeIdempotencyKey,
  releaseIdempotencyKey,
  renewIdempotencyKey,
  IDEMPOTENCY_RENEW_MS,
} from './idempotency-keys.ts';
export { createCustomFieldLookup, listCustomFieldValues } from './custom-fields.ts';
export { createPgBlobStore, type BlobStore, type StoredBlob } from './blob-store.ts';
export {
  listTicketAttachments,
  findReplyAttachment,
  type ListedAttachment,
} from './reply-attachments.ts';
export { findMailTicket, type MailTicket } from './mail-ticket.ts';
export { recordInboundEmail, type InboundEmail } from './inbound-emails.ts';
export { purgeRecords, type PurgedRecords } from './purge-records.ts';
