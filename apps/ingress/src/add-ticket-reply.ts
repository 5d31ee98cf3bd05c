import { createHash } from 'node:crypto';
import type { QueueEvents } from 'bullmq';
import {
  apiError,
  apiErrorWithHeaders,
  describeDeadReason,
  formatBytes,
  replyJobId,
  validateReplyJob,
  type AttachmentLimits,
  type ReplyJob,
} from '@ticketflow/contract';
import {
  claimIdempotencyKey,
  clientExists,
  completeIdempotencyKey,
  IDEMPOTENCY_RENEW_MS,
  contactBelongsTo,
  findStatusTitle,
  createTicketLookup,
  createCustomFieldLookup,
  releaseIdempotencyKey,
  renewIdempotencyKey,
  type BlobStore,
  type Db,
} from '@ticketflow/db';
import type { JobDefinition, RedisClient, ReplyQueue } from '@ticketflow/queue';
import type { Logger } from 'pino';
import { createReplyEnqueuer } from './enqueue-reply.ts';
import { newReplyId } from './reply-id.ts';
import type { ApiRequest, ApiResponse, Handler } from './handler.ts';
import type { ConsumeRateLimits } from './rate-limit.ts';
import { readTicketRef } from './read-ticket-ref.ts';
import { mayReachTicket } from './ticket-access.ts';
import { findReplyState, type ReplyState } from './reply-state.ts';
import { validateReply, type ReplyLookups } from './validate-reply.ts';

export interface AddTicketReplyDeps {
  db: Db;
  blobs: BlobStore;
  attachmentLimits: AttachmentLimits;
  queue: ReplyQueue;
  replyJob: JobDefinition;
  queueEvents: () => Promise<QueueEvents>;
  redis: RedisClient;
  messageLimitBytes: number;
  rateLimits: { perPrincipalPerMinute: number; perTicketPerMinute: number };
  consumeRateLimits: ConsumeRateLimits;
  idempotencyTtlHours: number;
  logger: Logger;
}

/** Longest `Prefer: wait=N` honoured (API.md §7). */
const MAX_WAIT_S = 30;

/**
 * add-ticket-reply: validate, enqueue a contract-v1 job, answer once BullMQ holds it.
 * `endpointParameters` are names this endpoint reads besides the reply's (WHMCS `action`, …).
 */
export function createAddTicketReply(
  deps: AddTicketReplyDeps,
): (endpointParameters?: ReadonlySet<string>) => Handler {
  const lookups: ReplyLookups = {
    clientExists: (id) => clientExists(deps.db, id),
    contactBelongsTo: (contact, client) => contactBelongsTo(deps.db, contact, client),
    findStatusTitle: (name) => findStatusTitle(deps.db, name),
    listCustomFields: createCustomFieldLookup(deps.db),
  };

  const findTicket = createTicketLookup(deps.db);
  const enqueueReply = createReplyEnqueuer(deps.queue, deps.replyJob, deps.redis);

  /** The ticket the request names, or undefined when it names none (validation says why). */
  const findTicketOf = async (req: ApiRequest) => {
    let ref;
    try {
      ref = readTicketRef(req.fields);
    } catch {
      return undefined;
    }
    return findTicket(ref);
  };

  return (endpointParameters = new Set()) =>
    async function addTicketReply(req: ApiRequest): Promise<ApiResponse> {
      const idempotencyKey = readIdempotencyKey(req.header('idempotency-key'));
      // The ticket is looked up once, before the rate limit, so the per-ticket count keys on its
      // id however the request spells it (`5`, `005`, its ticketnum).
      const named = await findTicketOf(req);
      const rateHeaders = await deps.consumeRateLimits([
        { scope: 'token', id: req.principal.sub, perMinute: deps.rateLimits.perPrincipalPerMinute },
        {
          scope: 'ticket',
          // A ticket the caller may not reach counts against the caller only: otherwise one
          // client could exhaust another client's ticket by naming it.
          id:
            named && mayReachTicket(req.principal, named)
              ? `id:${named.id}`
              : `unknown:${req.principal.sub}`,
          perMinute: deps.rateLimits.perTicketPerMinute,
        },
      ]);

      const receivedAt = new Date();
      const { ticket, draft, inline, warnings } = await validateReply({
        fields: req.fields,
        uploads: req.uploads,
        attachmentLimits: deps.attachmentLimits,
        principal: req.principal,
        ticket: named,
        endpointParameters,
        messageLimitBytes: deps.messageLimitBytes,
        now: receivedAt,
        lookups,
      });
      // Attachment bytes never travel through Redis: they are staged, and the job references them.
      for (const attachment of inline) {
        // Already decoded and checked against the limit; the store applies the same one.
        const limit = deps.attachmentLimits.bytes;
        const blob = await deps.blobs.write(attachment.data, limit, () =>
          apiError('payload_too_large', 'Attachment', formatBytes(limit)),
        );
        draft.attachments.push({
          name: attachment.originalName,
          blob: { sha256: blob.sha256, size: blob.size },
        });
      }
      const replyid = newReplyId(receivedAt.getTime());
      const candidate: ReplyJob = {
        v: 1,
        replyid,
        dedupeKey: idempotencyKey ? `idem:${req.principal.sub}:${idempotencyKey}` : replyid,
        ...draft,
        source: { kind: 'api', principal: req.principal.sub },
        receivedAt: receivedAt.toISOString(),
        requestId: req.requestId,
      };
      // The same validator the worker runs: what the ingress accepts, the worker accepts.
      const checked = validateReplyJob(candidate);
      if (!checked.ok)
        throw apiError(
          'invalid_parameter',
          'request',
          checked.reason.replace(/^invalid reply job: /, ''),
        );

      if (idempotencyKey) {
        const claim = await claimIdempotencyKey(deps.db, {
          principal: req.principal.sub,
          key: idempotencyKey,
          fingerprint: fingerprint(draft),
          ttlHours: deps.idempotencyTtlHours,
        });
        if (claim.state === 'mismatch') throw apiError('idempotency_key_reused');
        if (claim.state === 'in_progress') {
          throw apiErrorWithHeaders(
            { 'Retry-After': String(claim.retryAfterS) },
            'idempotency_key_in_progress',
          );
        }
        if (claim.state === 'replay') {
          return {
            status: claim.status,
            body: claim.body as Record<string, unknown>,
            headers: { ...rateHeaders, 'Idempotent-Replayed': 'true' },
          };
        }
      }
      // The claim is a short lease, renewed while this request runs (a `Prefer: wait` may take
      // 30 s): if the process dies, the key is free again within seconds.
      const renewal = idempotencyKey
        ? setInterval(() => {
            renewIdempotencyKey(deps.db, req.principal.sub, idempotencyKey).catch(() => undefined);
          }, IDEMPOTENCY_RENEW_MS)
        : undefined;
      const job = checked.job;
      try {
        return await enqueueAndAnswer();
      } finally {
        clearInterval(renewal);
      }

      async function enqueueAndAnswer(): Promise<ApiResponse> {
        try {
          await enqueueReply(job);
        } catch (error) {
          if (idempotencyKey)
            await releaseIdempotencyKey(deps.db, req.principal.sub, idempotencyKey);
          throw error;
        }
        // From here on the reply is accepted: nothing below may answer an error that says
        // otherwise, or a client that believes it posts again without the key.
        const body: Record<string, unknown> = {
          result: 'success',
          replyid,
          ticketid: ticket.id,
          status: 'queued',
        };
        if (warnings.length > 0) body.warnings = warnings;
        const headers: Record<string, string> = { ...rateHeaders };
        const waitS = preferredWait(req.header('prefer'));
        if (waitS !== undefined) {
          const state = await waitForReply(deps, replyid, waitS).catch(() => undefined);
          if (state?.status === 'dead') {
            // Not kept under the key: like a validation failure, the fixed request may reuse it
            // (the dedupe key still stops a second reply if the dead one is replayed later).
            if (idempotencyKey)
              await releaseIdempotencyKey(deps.db, req.principal.sub, idempotencyKey).catch(
                () => undefined,
              );
            throw apiError(
              'reply_dead_lettered',
              replyid,
              state.reason ?? describeDeadReason(null),
            );
          }
          body.status = state?.status ?? 'queued';
          headers['Preference-Applied'] = `wait=${waitS}`;
        }
        if (idempotencyKey) {
          await completeIdempotencyKey(deps.db, req.principal.sub, idempotencyKey, {
            status: 200,
            body,
          }).catch((error: unknown) =>
            // The key's lease lapses in seconds; a retry with it then runs again and its job
            // completes as a duplicate (the dedupe key), so the reply is still stored once.
            deps.logger.warn(
              { err: (error as Error).message },
              'accepted a reply but could not record its idempotent answer',
            ),
          );
        }
        return { status: 200, body, headers };
      }
    };
}

/** `Idempotency-Key`: 1–255 printable ASCII characters (IETF httpapi draft), as a string. */
function readIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = header.trim().replace(/^"(.*)"$/, '$1');
  if (!/^[\x20-\x7e]{1,255}$/.test(key)) throw apiError('invalid_idempotency_key');
  return key;
}

/** The request's identity for idempotency: its normalised parameters, not its bytes. */
function fingerprint(draft: object): string {
  return createHash('sha256').update(JSON.stringify(draft)).digest('hex');
}

function preferredWait(prefer: string | undefined): number | undefined {
  const match = /(?:^|[,;\s])wait=(\d+)/i.exec(prefer ?? '');
  return match ? Math.min(Number(match[1]), MAX_WAIT_S) : undefined;
}

/** Waits up to `seconds` for the worker to finish the job; then reports whatever state it is in. */
async function waitForReply(
  deps: AddTicketReplyDeps,
  replyid: string,
  seconds: number,
): Promise<ReplyState | undefined> {
  const job = seconds > 0 ? await deps.queue.getJob(replyJobId(replyid)) : undefined;
  if (job) {
    const events = await deps.queueEvents();
    await job.waitUntilFinished(events, seconds * 1000).catch(() => undefined);
  }
  return findReplyState(deps.db, deps, replyid);
}
