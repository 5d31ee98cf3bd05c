import type { Config } from '@ticketflow/config';
import { findWebhookEndpoint, insertTestEvent } from '@ticketflow/db';
import { jobCatalog, openQueue } from '@ticketflow/queue';
import { createNotificationDispatcher } from '@ticketflow/worker';
import { CliFailure } from '../runtime.ts';
import { noEndpoint, parseEndpointId } from './webhooks.ts';
import { withDb } from './with-db.ts';
import { withRedis } from './with-redis.ts';

/**
 * Sends a `webhook.test` event to one endpoint the way every notification goes: an outbox row,
 * then its job on the notifications queue. A running worker delivers it; were the enqueue lost,
 * the outbox sweep would enqueue the row again.
 */
export async function testWebhook(config: Config, idText: string): Promise<void> {
  const id = parseEndpointId(idText);
  const notifications = jobCatalog(config).notifications;
  const outboxId = await withDb(config, async (db) => {
    const endpoint = await findWebhookEndpoint(db, id);
    if (!endpoint) throw noEndpoint(id);
    // The worker would dead-letter the event as endpoint_disabled; say so now instead.
    if (!endpoint.enabled) {
      throw new CliFailure(
        `webhook endpoint ${id} is disabled; enable it first: ticketflow webhooks enable ${id}`,
      );
    }
    return withRedis(config, async (redis) => {
      const queue = openQueue(notifications, redis, config.queuePrefix);
      try {
        const inserted = await insertTestEvent(db, id);
        await createNotificationDispatcher(
          queue,
          notifications,
          db,
        )([{ outboxId: inserted, channel: 'webhook', endpointId: id }]);
        return inserted;
      } finally {
        await queue.close();
      }
    });
  });
  process.stdout.write(
    `outbox ${outboxId}\nA running worker delivers it; see the result with: ticketflow webhooks attempts ${id}\n`,
  );
}
