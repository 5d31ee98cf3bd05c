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
  type NewReply,
  type InsertOutcome,
  type StoredReply,
} from './replies.ts';
export { recordDeadLetter, findDeadLetter } from './dead-letters.ts';
export { seedDemo, type DemoSeed } from './seed-demo.ts';
export {
  claimIdempotencyKey,
  completeIdempotencyKey,
  releaseIdempotencyKey,
} from './idempotency-keys.ts';
export { createCustomFieldLookup, listCustomFieldValues } from './custom-fields.ts';
export { createPgBlobStore, type BlobStore, type StoredBlob } from './blob-store.ts';
export {
  listTicketAttachments,
  findReplyAttachment,
  type ListedAttachment,
} from './reply-attachments.ts';
