import { randomUUID } from 'node:crypto';
import type { ReplyJob } from '@ticketflow/contract';

/**
 * A valid contract v1 job as a producer other than the ingress enqueues it: a plain staff reply
 * to `ticketId` without email, dedupe key = replyid; `overrides` change any field.
 */
export function replyJob(ticketId: number, overrides: Partial<ReplyJob> = {}): ReplyJob {
  const replyid = overrides.replyid ?? randomUUID();
  return {
    v: 1,
    replyid,
    dedupeKey: replyid,
    ticket: { id: ticketId },
    author: { type: 'staff', admin: 'Sam Staff' },
    message: 'We restarted the server.',
    markdown: false,
    status: null,
    noemail: true,
    created: null,
    customfields: [],
    attachments: [],
    source: { kind: 'api', principal: 'test-producer' },
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}
