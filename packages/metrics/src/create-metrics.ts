import { collectDefaultMetrics, Registry } from 'prom-client';
import { catalogQueues, isRedisReady, openQueue, type JobCatalog } from '@ticketflow/queue';
import { createHttpMetrics, type ObserveRequest } from './http-metrics.ts';
import { createJobMetrics, type JobMetrics } from './job-metrics.ts';
import { createMailMetrics, type ObserveMail } from './mail-metrics.ts';
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
  /** For the email bridge (the ingress's inbound-email route and `ticketflow bridge`). */
  observeMail: ObserveMail | undefined;
  /** Every series in the Prometheus text format, with its content type. */
  scrape: () => Promise<{ contentType: string; text: string }>;
  /** Closes the queues opened to count jobs. */
  close(): Promise<void>;
}

/**
 * A registry of our own (never prom-client's global one, which any library in the process could
 * write to) holding every `ticketflow_…` series: HTTP, jobs, replies, notifications, dead
 * letters, inbound email, queue depth per state for every catalog queue (when `queues` is given:
 * `serve` reads them, the bridge leaves them to the processes that run the queues), and Node's
 * process metrics.
 */
export function createMetrics(options: {
  queues?: {
    catalog: JobCatalog;
    /** A producer connection: queue counts are read on it at scrape time. */
    redis: Parameters<typeof openQueue>[1];
    prefix: string;
  };
  /**
   * Every (outcome, reason) the email bridge reports, so each starts at 0; given by processes
   * that take mail only, so the others publish no inbound-email series.
   */
  mailOutcomes?: ReadonlyArray<{ outcome: string; reason: string }>;
}): Metrics {
  const registry = new Registry();
  const opened: Array<{ close(): Promise<void> }> = [];
  collectDefaultMetrics({ register: registry, prefix: 'ticketflow_' });
  const counted = options.queues;
  const definitions = counted ? catalogQueues(counted.catalog) : [];
  if (counted) {
    const queues = definitions.map((definition) => {
      const queue = openQueue(definition, counted.redis, counted.prefix);
      // A Redis outage shows as the queue series missing from the scrape; the connection's
      // other users already log it.
      queue.on('error', () => undefined);
      return queue;
    });
    opened.push(...queues);
    registerQueueJobsGauge(registry, {
      queues,
      cacheMs: QUEUE_COUNTS_CACHE_MS,
      deadlineMs: QUEUE_COUNTS_DEADLINE_MS,
      isReady: () => isRedisReady(counted.redis),
    });
  }
  return {
    observeRequest: createHttpMetrics(registry),
    jobs: createJobMetrics(registry, definitions),
    observeMail: options.mailOutcomes && createMailMetrics(registry, options.mailOutcomes),
    scrape: async () => ({ contentType: registry.contentType, text: await registry.metrics() }),
    async close() {
      await Promise.all(opened.map((queue) => queue.close()));
    },
  };
}
