import { describe, expect, it } from 'vitest';
import { enqueueReply, REPLY_JOB_OPTIONS, type ReplyJobQueue } from './enqueue-reply.ts';
import type { ReplyJob } from './reply-job.ts';

const REPLY_ID = '0192f1c4-7b3a-7c2e-9d4f-1a2b3c4d5e6f';

/** A guest's reply as an email bridge of another team would produce it. */
function bridgeJob(): ReplyJob {
  return {
    v: 1,
    replyid: REPLY_ID,
    dedupeKey: 'email:support:CAH1x@mail.example',
    ticket: { num: 'ABC-123456' },
    author: { type: 'guest', name: 'Ada', email: 'ada@example.com' },
    message: 'Thanks!',
    markdown: false,
    status: null,
    noemail: false,
    created: null,
    customfields: [],
    attachments: [],
    source: { kind: 'email', principal: 'their-bridge', messageId: '<CAH1x@mail.example>' },
    receivedAt: '2026-12-04T10:00:00.000Z',
  };
}

/** A queue that keeps what was added: the one call a BullMQ Queue would receive. */
function recordingQueue() {
  const added: Array<Parameters<ReplyJobQueue['add']>> = [];
  const queue: ReplyJobQueue = {
    add: (...args) => {
      added.push(args);
      return Promise.resolve({ id: args[2].jobId });
    },
  };
  return { queue, added };
}

describe('enqueueReply', () => {
  it('adds a valid job as `reply` under its contract job id, with the recommended options', async () => {
    const { queue, added } = recordingQueue();
    const job = await enqueueReply(queue, bridgeJob());
    expect(job).toEqual(bridgeJob());
    expect(added).toEqual([
      ['reply', bridgeJob(), { ...REPLY_JOB_OPTIONS, jobId: `reply-${REPLY_ID}` }],
    ]);
  });

  it("uses the caller's options, but always the contract's job id", async () => {
    const { queue, added } = recordingQueue();
    await enqueueReply(queue, bridgeJob(), { attempts: 2 });
    expect(added[0]?.[2]).toEqual({ attempts: 2, jobId: `reply-${REPLY_ID}` });
  });

  it('refuses an invalid payload naming the field, and adds nothing', async () => {
    const { queue, added } = recordingQueue();
    await expect(enqueueReply(queue, { ...bridgeJob(), message: '  ' })).rejects.toThrow(
      new TypeError('invalid reply job: message: must not be blank'),
    );
    await expect(enqueueReply(queue, { ...bridgeJob(), v: 2 })).rejects.toThrow(
      /unsupported reply job version 2/,
    );
    expect(added).toEqual([]);
  });
});
