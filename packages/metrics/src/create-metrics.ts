import { collectDefaultMetrics, Registry } from 'prom-client';
import { catalogQueues, isRedisReady, openQueue, type JobCatalog } from '@ticketflow/queue';
import { createHttpMetrics, type ObserveRequest } from './http-metrics.ts';
import { createJobMetrics, type JobMetrics } from './job-metrics.ts';
import { registerQueueJobsGauge } from './queue-jobs-gauge.ts';

/**
 * How long queue counts read for one scrape serve the next ones. Prometheus scrapes every 15 s
 * or more by default, so a scrape still sees counts at most 5 s old, while any number of
 * scrapers costs Redis at most one read of every queue per 5 s per process.
 */
const QUEUE_COUNTS_CACHE_MS = 5000;
/** Well inside Prometheus's default 10 s scrape timeout, so the other series still arrive. */
const QUEUE_COUNTS_DEADLINE_MS = 2000;

/** One process's metrics: what the ingress and workers record, and the `/metrics` text. */
export interface Metrics {
  /** For the HTTP apps: one call per answered request. */
  observeRequest: ObserveRequest;
  /** For the workers. */
  jobs: JobMetrics;
  /** Every series in the Prometheus text format, with its content type. */
  scrape: () => Promise<{ contentType: string; text: string }>;
  /** Closes the queues opened to count jobs. */
  close(): Promise<void>;
}

/**
 * A registry of our own (never prom-client's global one, which any library in the process could
 * write to) holding every `ticketflow_…` series: HTTP, jobs, replies, notifications, dead
 * letters, queue depth per state for every catalog queue, and Node's process metrics.
 */
export function createMetrics(options: {
  catalog: JobCatalog;
  /** A producer connection: queue counts are read on it at scrape time. */
  redis: Parameters<typeof openQueue>[1];
  prefix: string;
}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ticketflow_' });
  const definitions = catalogQueues(options.catalog);
  const queues = definitions.map((definition) => {
    const queue = openQueue(definition, options.redis, options.prefix);
    // A Redis outage shows as the queue series missing from the scrape; the connection's other
    // users already log it.
    queue.on('error', () => undefined);
    return queue;
  });
  registerQueueJobsGauge(registry, {
    queues,
    cacheMs: QUEUE_COUNTS_CACHE_MS,
    deadlineMs: QUEUE_COUNTS_DEADLINE_MS,
    isReady: () => isRedisReady(options.redis),
  });
  return {
    observeRequest: createHttpMetrics(registry),
    jobs: createJobMetrics(registry, definitions),
    scrape: async () => ({ contentType: registry.contentType, text: await registry.metrics() }),
    async close() {
      await Promise.all(queues.map((queue) => queue.close()));
    },
  };
}
