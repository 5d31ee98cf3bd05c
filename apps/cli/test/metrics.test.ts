import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLY_JOB, replyJobId, type ReplyJob } from '@ticketflow/contract';
import { createRedis, jobCatalog, jobOptions, openQueue } from '@ticketflow/queue';
import { parseConfig } from '@ticketflow/config';
import { DEMO_TICKET_SUBJECT, rawMail, replyJob, until } from '@ticketflow/testing/peers';
import { startNotifyingStack, type NotifyingStack } from './notifying-stack.ts';
import { useCliFixture } from './run-cli.ts';
import { scrapeMetrics, type Scrape } from './scrape-metrics.ts';

const cli = useCliFixture();
let stack: NotifyingStack;

beforeAll(async () => {
  stack = await startNotifyingStack(cli);
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const scrape = () => scrapeMetrics(stack.url, stack.token('ops'));

/** Posts a reply as the seeded client and waits for it to be stored; answers its id. */
async function postReply(message: string): Promise<string> {
  const { body } = await stack.postReply(message, { waitS: 10 });
  expect(body.status).toBe('persisted');
  return body.replyid;
}

/** How much each series moved between two scrapes (a series absent before counts from 0). */
function moved(before: Scrape, after: Scrape) {
  return (name: string, labels: Record<string, string> = {}) =>
    (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);
}

async function enqueue(jobs: ReplyJob[]): Promise<void> {
  const catalog = jobCatalog(parseConfig(stack.env));
  const redis = createRedis(String(stack.env.REDIS_URL), 'producer');
  const queue = openQueue(catalog.replies, redis, String(stack.env.TICKETFLOW_QUEUE_PREFIX));
  try {
    for (const job of jobs) {
      await queue.add(
        REPLY_JOB,
        job,
        jobOptions(catalog.replies.jobs.reply, replyJobId(job.replyid)),
      );
    }
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

describe('/metrics', () => {
  it('answers 401 without a token and 403 to a client token, in the JSON error shape', async () => {
    const worker = await stack.serve(['--worker'], { TICKETFLOW_QUEUE_PREFIX: cli.newPrefix() });
    try {
      for (const url of [stack.url, worker.url]) {
        const anonymous = await fetch(`${url}/metrics`);
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
        expect(await anonymous.json()).toEqual({
          result: 'error',
          message: 'Authentication Failed: missing bearer token',
          code: 'missing_bearer_token',
        });
        const forged = await fetch(`${url}/metrics`, {
          headers: { authorization: 'Bearer x.y.z' },
        });
        expect(forged.status).toBe(401);
        expect(await forged.json()).toMatchObject({ result: 'error', code: 'invalid_token' });
        for (const role of ['client', 'staff', 'bridge'] as const) {
          const token = stack.token(
            role,
            role === 'client' ? { clientid: stack.seed.clientId } : {},
          );
          const refused = await fetch(`${url}/metrics`, {
            headers: { authorization: `Bearer ${token}` },
          });
          expect(refused.status).toBe(403);
          expect(await refused.json()).toEqual({
            result: 'error',
            message: 'Invalid Permissions: /metrics needs an ops token',
            code: 'forbidden',
          });
        }
      }
      // The worker-only process serves its own series: job counters and its own requests.
      const workerScrape = await scrapeMetrics(worker.url, stack.token('ops'));
      expect(workerScrape.value('ticketflow_jobs_completed_total', { queue: 'replies' })).toBe(0);
      expect(
        workerScrape.value('ticketflow_http_requests_total', { route: '/metrics', status: '403' }),
      ).toBe(3);
      expect(
        workerScrape.value('ticketflow_http_requests_total', { route: '/api/v2/add-ticket-reply' }),
      ).toBe(undefined);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });

  it('names every series ticketflow_…, with process metrics and the types Prometheus expects', async () => {
    const { families } = await scrape();
    expect(families.filter((f) => !f.name.startsWith('ticketflow_'))).toEqual([]);
    const typeOf = (name: string) => families.find((f) => f.name === name)?.type;
    expect(typeOf('ticketflow_http_requests_total')).toBe('COUNTER');
    expect(typeOf('ticketflow_http_request_duration_seconds')).toBe('HISTOGRAM');
    expect(typeOf('ticketflow_queue_jobs')).toBe('GAUGE');
    expect(typeOf('ticketflow_job_duration_seconds')).toBe('HISTOGRAM');
    expect(typeOf('ticketflow_dead_letters_total')).toBe('COUNTER');
    expect(typeOf('ticketflow_process_cpu_user_seconds_total')).toBe('COUNTER');
    expect(typeOf('ticketflow_nodejs_eventloop_lag_seconds')).toBe('GAUGE');
  });

  it('moves as a reply is stored and its email and webhook are delivered (the webhook on a retry)', async () => {
    stack.hooks.answer((n) => ({ status: n === 0 ? 500 : 200 }));
    const before = await scrape();
    await postReply('counted by the metrics test');
    const after = await until(
      'the deliveries to be counted',
      async () => {
        const s = await scrape();
        const delta = moved(before, s);
        return delta('ticketflow_notifications_delivered_total', { channel: 'email' }) === 1 &&
          delta('ticketflow_notifications_delivered_total', { channel: 'webhook' }) === 1
          ? s
          : false;
      },
      15_000,
    );
    const delta = moved(before, after);
    const route = { route: '/api/v2/add-ticket-reply', method: 'POST', status: '200' };
    expect(delta('ticketflow_http_requests_total', route)).toBe(1);
    expect(delta('ticketflow_http_request_duration_seconds_count', route)).toBe(1);
    expect(delta('ticketflow_replies_persisted_total')).toBe(1);
    expect(delta('ticketflow_reply_duplicates_suppressed_total')).toBe(0);
    expect(delta('ticketflow_jobs_completed_total', { queue: 'replies', name: 'reply' })).toBe(1);
    expect(
      delta('ticketflow_job_duration_seconds_count', {
        queue: 'replies',
        name: 'reply',
        outcome: 'completed',
      }),
    ).toBe(1);
    expect(delta('ticketflow_webhook_attempts_total', { outcome: 'retry' })).toBe(1);
    expect(delta('ticketflow_webhook_attempts_total', { outcome: 'delivered' })).toBe(1);
    expect(delta('ticketflow_jobs_failed_total', { queue: 'notifications', name: 'webhook' })).toBe(
      1,
    );
    expect(delta('ticketflow_dead_letters_total', { queue: 'notifications' })).toBe(0);
    // Queue depths are read from Redis, cached for a few seconds between scrapes.
    await until('the replies queue to show the completed job', async () => {
      const s = await scrape();
      return (s.value('ticketflow_queue_jobs', { queue: 'replies', state: 'completed' }) ?? 0) >= 1;
    });
  });

  it('counts a job whose reply is stored already as a duplicate, and a poison job as a dead letter', async () => {
    const before = await scrape();
    const dedupeKey = `metrics-test-${randomUUID()}`;
    await enqueue([
      replyJob(stack.seed.ticketId, { dedupeKey }),
      replyJob(stack.seed.ticketId, { dedupeKey }),
      replyJob(2_000_000_000, { dedupeKey: `${dedupeKey}-dead` }),
    ]);
    const after = await until('the three jobs to be counted', async () => {
      const s = await scrape();
      const delta = moved(before, s);
      return delta('ticketflow_jobs_completed_total', { queue: 'replies', name: 'reply' }) === 2 &&
        delta('ticketflow_jobs_failed_total', { queue: 'replies', name: 'reply' }) === 1
        ? s
        : false;
    });
    const delta = moved(before, after);
    expect(delta('ticketflow_replies_persisted_total')).toBe(1);
    expect(delta('ticketflow_reply_duplicates_suppressed_total')).toBe(1);
    expect(delta('ticketflow_dead_letters_total', { queue: 'replies' })).toBe(1);
  });

  it('counts each inbound email by outcome and reason, every pair from 0', async () => {
    const before = await scrape();
    expect(
      before.value('ticketflow_inbound_emails_total', { outcome: 'dropped', reason: 'bounce' }),
    ).toBe(0);
    const post = (raw: string) =>
      fetch(`${stack.url}/api/v2/inbound-email`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${stack.token('bridge')}`,
          'content-type': 'message/rfc822',
        },
        body: raw,
      });
    expect((await post(rawMail({ Subject: DEMO_TICKET_SUBJECT }, 'Counted.').raw)).status).toBe(
      200,
    );
    expect((await post(rawMail({ Subject: 'Which ticket?' }, 'Refused.').raw)).status).toBe(422);
    const away = rawMail(
      { Subject: DEMO_TICKET_SUBJECT, 'Auto-Submitted': 'auto-replied' },
      'Away.',
    );
    expect((await post(away.raw)).status).toBe(200);
    const delta = moved(before, await scrape());
    expect(delta('ticketflow_inbound_emails_total', { outcome: 'posted', reason: '' })).toBe(1);
    expect(
      delta('ticketflow_inbound_emails_total', { outcome: 'refused', reason: 'no_ticket' }),
    ).toBe(1);
    expect(
      delta('ticketflow_inbound_emails_total', { outcome: 'dropped', reason: 'auto_submitted' }),
    ).toBe(1);
    expect(delta('ticketflow_inbound_emails_total', { outcome: 'deferred', reason: '' })).toBe(0);
  });

  it('labels a request no route matched as unmatched, never by its URL', async () => {
    const probe = `/wp-admin/${randomUUID()}.php`;
    expect((await fetch(`${stack.url}${probe}`)).status).toBe(404);
    const text = await (
      await fetch(`${stack.url}/metrics`, {
        headers: { authorization: `Bearer ${stack.token('ops')}` },
      })
    ).text();
    expect(text).not.toContain(probe);
    expect(text).toMatch(
      /ticketflow_http_requests_total\{route="unmatched",method="GET",status="404"\} [1-9]/,
    );
  });
});
