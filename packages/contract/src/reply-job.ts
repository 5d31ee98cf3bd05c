import { z } from 'zod';
import { MAX_ID, TICKET_NUMBER } from './coerce.ts';
import { MAX_CUSTOM_FIELD_BYTES } from './custom-fields.ts';

/** Queue and job names producers use (API.md §9). */
export const REPLY_QUEUE = 'replies';
export const REPLY_JOB = 'reply';

/** BullMQ job id of a reply: custom ids may not contain `:` nor be all digits. */
export function replyJobId(replyid: string): string {
  return `reply-${replyid}`;
}

const id = z.number().int().min(1).max(MAX_ID);
/** PostgreSQL text cannot hold U+0000: refuse it at the contract, not in the worker's INSERT. */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly the character refused here
const text = () => z.string().regex(/^[^\u0000]*$/, 'must not contain NUL (U+0000)');
const shortText = text().min(1).max(255);
const isoInstant = z.iso.datetime({ offset: true });
/** API.md §9: inline attachment data, 256 KiB in all; its base64 is 349,528 characters. */
const MAX_INLINE_DATA = 350_000;

const author = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('client'), clientid: id, contactid: id.nullable() }),
  z.strictObject({ type: z.literal('guest'), name: shortText, email: z.email().max(255) }),
  z.strictObject({ type: z.literal('staff'), admin: shortText }),
]);

const attachment = z.union([
  z.strictObject({
    name: shortText,
    blob: z.strictObject({
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      size: z.number().int().min(0),
    }),
  }),
  z.strictObject({
    name: shortText,
    /** base64 of the bytes; producers without the blob store, 256 KiB in all. */
    data: z.string().max(MAX_INLINE_DATA),
  }),
]);

/**
 * Reply job, contract version 1. Every producer (the HTTP ingress, email bridges) sends this
 * and the worker validates it again. Changes are recorded in packages/contract/CHANGELOG.md.
 */
export const replyJobV1 = z.strictObject({
  v: z.literal(1),
  /** One id everywhere: the API answer, get-ticket, /replies/:replyid. */
  replyid: z.uuid(),
  /** Unique forever: idempotency scope+key, `email:<mailbox>:<Message-ID>`, or the replyid. */
  dedupeKey: text().min(1).max(512),
  ticket: z.union([
    z.strictObject({ id }),
    z.strictObject({ num: z.string().regex(TICKET_NUMBER) }),
  ]),
  author,
  // API.md §4: a whitespace-only message is no message, whoever produced the job.
  message: text().min(1).max(262_144).regex(/\S/, 'must not be blank'),
  markdown: z.boolean(),
  /** Staff replies only: a configured status title; null means the default (`Answered`). */
  status: text().min(1).max(64).nullable(),
  noemail: z.boolean(),
  /** When the reply was written; null means when it is persisted. */
  created: isoInstant.nullable(),
  customfields: z
    .array(
      z.strictObject({
        field: z.union([id, shortText]),
        value: text().max(MAX_CUSTOM_FIELD_BYTES),
      }),
    )
    .max(100),
  attachments: z
    .array(attachment)
    .max(100)
    .refine(
      (all) => all.reduce((n, a) => n + ('data' in a ? a.data.length : 0), 0) <= MAX_INLINE_DATA,
      { message: 'inline data exceeds 256 KiB in all; use blob references' },
    ),
  source: z.strictObject({
    kind: z.enum(['api', 'email']),
    /** The token `sub` or bridge name that produced the job. */
    principal: shortText,
    messageId: text().max(998).optional(),
    inReplyTo: text().max(998).optional(),
  }),
  receivedAt: isoInstant,
  /**
   * Optional: the X-Request-Id of the request that produced the job, so logs follow the reply
   * from the request into its job, its row and its notifications. Added within v1 (CHANGELOG).
   */
  requestId: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, 'printable ASCII, 1 to 128 characters')
    .optional(),
});

export type ReplyJob = z.infer<typeof replyJobV1>;
export type ReplyAuthor = ReplyJob['author'];

export type ReplyJobCheck = { ok: true; job: ReplyJob } | { ok: false; reason: string };

/** Validates untrusted job data against contract v1; the reason names each bad path. */
export function validateReplyJob(data: unknown): ReplyJobCheck {
  const version = (data as { v?: unknown } | null)?.v;
  if (version !== 1) {
    return {
      ok: false,
      reason: `unsupported reply job version ${JSON.stringify(version ?? null)}; this worker reads v1`,
    };
  }
  const parsed = replyJobV1.safeParse(data);
  if (parsed.success) return { ok: true, job: parsed.data };
  const reason = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(job)'}: ${i.message}`)
    .join('; ');
  return { ok: false, reason: `invalid reply job: ${reason}` };
}

/** The published JSON Schema of contract v1 (also committed as reply-job.v1.schema.json). */
export function replyJobJsonSchema(): unknown {
  return z.toJSONSchema(replyJobV1);
}
