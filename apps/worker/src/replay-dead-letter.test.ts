import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StoredDeadLetter } from '@ticketflow/db';
import { jobCatalog } from '@ticketflow/queue';
import { planReplay } from './replay-dead-letter.ts';

const catalog = jobCatalog({
  worker: { attempts: 6, backoffMs: 1000 },
  mail: { attempts: 12, backoffMs: 5000 },
  webhooks: { scheduleMs: [5000] },
});

function letter(fields: Partial<StoredDeadLetter>): StoredDeadLetter {
  return {
    id: 1,
    queue: 'replies',
    jobId: 'reply-1',
    name: 'reply',
    payload: {},
    reason: 'retries_exhausted',
    error: 'boom',
    attempts: 6,
    failedAt: new Date(),
    replayedAt: null,
    ...fields,
  };
}

describe('planReplay', () => {
  it('replays a reply job on its catalog queue with its catalog job definition', () => {
    expect(planReplay(letter({}), catalog)).toEqual({
      ok: true,
      queue: catalog.replies,
      job: catalog.replies.jobs.reply,
      outboxId: null,
    });
  });

  it('reopens the outbox row a notification job names', () => {
    const outboxId = randomUUID();
    const plan = planReplay(
      letter({ queue: 'notifications', name: 'webhook', payload: { v: 1, outboxId } }),
      catalog,
    );
    expect(plan).toMatchObject({ ok: true, job: catalog.notifications.jobs.webhook, outboxId });
  });

  it('refuses a notification whose payload names no outbox row', () => {
    expect(
      planReplay(letter({ queue: 'notifications', name: 'email', payload: { v: 1 } }), catalog),
    ).toEqual({ ok: false, reason: 'its payload is not a notification job (v1 with an outboxId)' });
  });

  it.for(['frobnicate', 'constructor', 'toString'])(
    'refuses the job name "%s", which the queue does not run',
    (name) => {
      expect(planReplay(letter({ name }), catalog)).toEqual({
        ok: false,
        reason: `queue replies runs no job named "${name}" (it runs reply)`,
      });
    },
  );

  it('refuses a queue the catalog does not have', () => {
    expect(planReplay(letter({ queue: 'legacy' }), catalog)).toEqual({
      ok: false,
      reason: 'queue "legacy" is not one Ticketflow runs',
    });
  });
});
