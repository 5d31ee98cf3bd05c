import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@ticketflow/testing';
import { createDeliveryStore, loadDeliveries, recordDeliveries } from './outbox.ts';
import { seedDemo, type DemoSeed } from './seed-demo.ts';
import { addWebhookEndpoint } from './webhook-endpoints.ts';

const database = useTestDatabase();
let seed: DemoSeed;
let endpointId: number;

beforeAll(async () => {
  seed = await seedDemo(database.db);
  endpointId = await addWebhookEndpoint(database.db, {
    url: 'https://hooks.example.test/in',
    secret: 'whsec_dGVzdA==',
    events: ['ticket.reply.created'],
  });
});

/** An outbox row of the demo ticket, outside any reply (as `webhooks test` makes them). */
async function outboxRow(channel: 'email' | 'webhook'): Promise<string> {
  const [row] = await database
    .db('outbox')
    .insert({
      channel,
      event: 'webhook.test',
      ticket_id: seed.ticketId,
      ...(channel === 'webhook' ? { endpoint_id: endpointId } : { recipient: 'a@example.test' }),
    })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

const attempt = (webhookId: string) => ({
  endpointId,
  webhookId,
  httpStatus: 200,
  durationMs: 12,
  error: null,
});

describe('loadDeliveries', () => {
  it('answers in the order asked, undefined for a row that is not there', async () => {
    const [email, webhook] = [await outboxRow('email'), await outboxRow('webhook')];
    const missing = randomUUID();
    const loaded = await loadDeliveries(database.db, [webhook, missing, email]);
    expect(loaded.map((d) => d?.outboxId)).toEqual([webhook, undefined, email]);
    expect(loaded[0]).toMatchObject({ channel: 'webhook', endpoint: { id: endpointId } });
    expect(loaded[2]).toMatchObject({ channel: 'email', recipient: 'a@example.test' });
  });
});

describe('recordDeliveries', () => {
  it('marks each row delivered once, records every webhook attempt and ends the failure streak', async () => {
    const [email, webhook] = [await outboxRow('email'), await outboxRow('webhook')];
    await database
      .db('webhook_endpoints')
      .where({ id: endpointId })
      .update({
        failing_since: new Date(Date.now() - 60_000),
      });
    const first = await recordDeliveries(database.db, [
      { outboxId: email, detail: '250 queued' },
      { outboxId: webhook, detail: 'HTTP 200', attempt: attempt('msg_a') },
      // The same row twice in one batch (a stalled job's twin): the first one is the delivery.
      { outboxId: webhook, detail: 'HTTP 200', attempt: attempt('msg_a') },
    ]);
    expect(first).toEqual([true, true, false]);
    const again = await recordDeliveries(database.db, [{ outboxId: email, detail: '250 again' }]);
    expect(again).toEqual([false]);

    const rows = await database.db('outbox').whereIn('id', [email, webhook]).orderBy('channel');
    expect(rows.map((r: { detail: string }) => r.detail)).toEqual(['250 queued', 'HTTP 200']);
    expect(rows.every((r: { delivered_at: Date | null }) => r.delivered_at !== null)).toBe(true);
    const attempts = await database.db('webhook_attempts').where({ outbox_id: webhook });
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatchObject({ endpoint_id: endpointId, http_status: 200 });
    const endpoint = await database
      .db('webhook_endpoints')
      .where({ id: endpointId })
      .first<{ failing_since: Date | null }>('failing_since');
    expect(endpoint.failing_since).toBeNull();
  });
});

describe('createDeliveryStore', () => {
  it('fails only the record a constraint refuses, not the ones that shared its statement', async () => {
    const [webhook, email] = [await outboxRow('webhook'), await outboxRow('email')];
    const store = createDeliveryStore(database.db);
    // Made in the same tick, so they go in one statement; the endpoint of the first is gone.
    const [refused, recorded] = await Promise.allSettled([
      store.record({
        outboxId: webhook,
        detail: 'HTTP 200',
        attempt: { ...attempt('msg_gone'), endpointId: 2_000_000_000 },
      }),
      store.record({ outboxId: email, detail: '250 queued' }),
    ]);
    expect(refused.status).toBe('rejected');
    expect(recorded).toEqual({ status: 'fulfilled', value: true });
  });
});
