import { randomUUID } from 'node:crypto';
import { REPLY_JOB, replyJobId, type ReplyJob } from '@ticketflow/contract';
import type { TestStack } from './stack.ts';

/**
 * A v1 reply job as the e-mail bridge enqueues it, past the ingress: a guest's reply on the
 * seeded ticket, with `parts` (custom fields, attachments) and none of the other.
 */
export function bridgeJob(
  stack: TestStack,
  parts: Partial<Pick<ReplyJob, 'customfields' | 'attachments'>>,
): ReplyJob {
  const replyid = randomUUID();
  return {
    v: 1,
    replyid,
    dedupeKey: `email:support:${replyid}`,
    ticket: { id: stack.seed.ticketId },
    author: { type: 'guest', name: 'Mail Sender', email: 'sender@example.com' },
    message: 'from the bridge',
    markdown: false,
    status: null,
    noemail: false,
    created: null,
    customfields: parts.customfields ?? [],
    attachments: parts.attachments ?? [],
    source: { kind: 'email', principal: 'bridge-test', messageId: `<${replyid}@mail>` },
    receivedAt: new Date().toISOString(),
  };
}

/** Adds `data` to the stack's reply queue directly, by default under its contract job id. */
export function enqueueDirectly(
  stack: TestStack,
  data: ReplyJob,
  jobId = replyJobId(data.replyid),
) {
  return stack.queue.add(REPLY_JOB, data, { jobId });
}
