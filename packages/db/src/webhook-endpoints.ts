import type { Db } from './connect.ts';

export interface WebhookEndpoint {
  id: number;
  url: string;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  failingSince: Date | null;
  createdAt: Date;
}

/**
 * Every read goes to PostgreSQL, so `webhooks add|remove|enable|disable` apply to running
 * workers at once: the reply transaction fans out to the endpoints enabled at its commit, and
 * each delivery reads its endpoint when it is sent.
 */
export async function addWebhookEndpoint(
  db: Db,
  endpoint: { url: string; secret: string; events: readonly string[] },
): Promise<number> {
  const [row] = await db('webhook_endpoints')
    .insert({ url: endpoint.url, secret: endpoint.secret, events: [...endpoint.events] })
    .returning<{ id: number }[]>('id');
  return row!.id;
}

export async function listWebhookEndpoints(db: Db): Promise<WebhookEndpoint[]> {
  const rows = await db('webhook_endpoints').orderBy('id').select<EndpointRow[]>();
  return rows.map(toEndpoint);
}

export async function findWebhookEndpoint(
  db: Db,
  id: number,
): Promise<WebhookEndpoint | undefined> {
  const row = await db('webhook_endpoints').where({ id }).first<EndpointRow | undefined>();
  return row && toEndpoint(row);
}

/** Deletes the endpoint and its pending deliveries; false when there was none. */
export async function removeWebhookEndpoint(db: Db, id: number): Promise<boolean> {
  return (await db('webhook_endpoints').where({ id }).delete()) > 0;
}

/** Enables (clearing the failure record) or disables with a reason; false when there was none. */
export async function setWebhookEndpointEnabled(
  db: Db,
  id: number,
  enabled: boolean,
  reason: string | null = null,
): Promise<boolean> {
  const updated = await db('webhook_endpoints')
    .where({ id })
    .update(
      enabled
        ? { enabled: true, disabled_reason: null, failing_since: null }
        : { enabled: false, disabled_reason: reason },
    );
  return updated > 0;
}

/**
 * After a failed attempt: starts the endpoint's failure clock if it is not running, and
 * answers since when it has been failing.
 */
export async function noteEndpointFailure(db: Db, id: number): Promise<Date> {
  const [row] = await db('webhook_endpoints')
    .where({ id })
    .update({ failing_since: db.raw('COALESCE(failing_since, now())') })
    .returning<{ failing_since: Date }[]>('failing_since');
  return row?.failing_since ?? new Date();
}

export interface WebhookAttemptRecord {
  outboxId: string;
  endpointId: number;
  webhookId: string;
  httpStatus: number | null;
  durationMs: number;
  error: string | null;
}

export async function recordWebhookAttempt(db: Db, attempt: WebhookAttemptRecord): Promise<void> {
  await db('webhook_attempts').insert({
    outbox_id: attempt.outboxId,
    endpoint_id: attempt.endpointId,
    webhook_id: attempt.webhookId,
    http_status: attempt.httpStatus,
    duration_ms: attempt.durationMs,
    error: attempt.error,
  });
}

/** An endpoint's recent attempts, newest first. */
export async function listWebhookAttempts(
  db: Db,
  endpointId: number,
  limit: number,
): Promise<Array<WebhookAttemptRecord & { attemptedAt: Date }>> {
  const rows = await db('webhook_attempts')
    .where({ endpoint_id: endpointId })
    .orderBy([
      { column: 'attempted_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(limit)
    .select<
      Array<{
        outbox_id: string;
        endpoint_id: number;
        webhook_id: string;
        http_status: number | null;
        duration_ms: number;
        error: string | null;
        attempted_at: Date;
      }>
    >();
  return rows.map((r) => ({
    outboxId: r.outbox_id,
    endpointId: r.endpoint_id,
    webhookId: r.webhook_id,
    httpStatus: r.http_status,
    durationMs: r.duration_ms,
    error: r.error,
    attemptedAt: r.attempted_at,
  }));
}

interface EndpointRow {
  id: number;
  url: string;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  failing_since: Date | null;
  created_at: Date;
}

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since,
    createdAt: row.created_at,
  };
}
