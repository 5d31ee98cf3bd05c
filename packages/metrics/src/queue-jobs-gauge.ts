import { Gauge, type Registry } from 'prom-client';

/** The states `ticketflow queues` prints (API.md §10). */
const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

/** A queue whose jobs can be counted per state (a BullMQ Queue). */
export interface CountedQueue {
  readonly name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

export interface QueueJobsGaugeOptions {
  queues: readonly CountedQueue[];
  /** Counts read within this many ms are served again. */
  cacheMs: number;
  /** A read slower than this is given up, and the scrape goes out without queue series. */
  deadlineMs: number;
  /** False while the connection is down: a BullMQ call would then wait for it indefinitely. */
  isReady: () => boolean;
  now?: () => number;
}

/**
 * `ticketflow_queue_jobs{queue,state}`, read from Redis when scraped. Counts read within
 * `cacheMs` are served again, and concurrent scrapes share one read, so a scraper per replica
 * (or a tight scrape interval) costs Redis one round of reads per period. When Redis is down or
 * slow, the series are left out of that scrape rather than failing or stalling it: HTTP and
 * process metrics matter most during exactly that outage.
 */
export function registerQueueJobsGauge(registry: Registry, options: QueueJobsGaugeOptions): void {
  const now = options.now ?? Date.now;
  let read: { at: number; counts: Promise<QueueCounts[] | undefined> } | undefined;
  new Gauge({
    name: 'ticketflow_queue_jobs',
    help: 'Jobs per queue and state, read from Redis at scrape time (cached briefly)',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      if (!read || now() - read.at >= options.cacheMs) {
        read = { at: now(), counts: options.isReady() ? readCounts(options) : NOT_READ };
      }
      const counted = await read.counts;
      this.reset();
      for (const { queue, counts } of counted ?? []) {
        for (const state of STATES) this.set({ queue, state }, counts[state] ?? 0);
      }
    },
  });
}

interface QueueCounts {
  queue: string;
  counts: Record<string, number>;
}

const NOT_READ = Promise.resolve(undefined);

async function readCounts(options: QueueJobsGaugeOptions): Promise<QueueCounts[] | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.all(
        options.queues.map(async (q) => ({
          queue: q.name,
          counts: await q.getJobCounts(...STATES),
        })),
      ),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), options.deadlineMs);
      }),
    ]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
