import type { Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { settleWithin } from '@ticketflow/queue';

/** One look at a worker and its queue. */
export interface ConsumptionSample {
  at: number;
  /** Jobs waiting in the queue; undefined when Redis did not answer (nothing to judge). */
  waiting: number | undefined;
  /** Jobs this worker is running now. */
  activeHere: number;
  /** Jobs this worker has finished since it started (any outcome). */
  finishedHere: number;
  /** BullMQ's own flag: false once its fetch loop has ended. */
  running: boolean;
}

/**
 * Is this worker consuming? Pure. It is stuck when its fetch loop has ended, or when, for a
 * whole window, jobs waited while it ran none and finished none: with free slots and waiting
 * jobs a healthy worker takes some, whatever other workers do. That is the known BullMQ failure
 * after a Redis reconnect (a fetch that never returns); a queue that is merely busy elsewhere
 * drains its waiting jobs or shows them taken.
 */
export function judgeConsumption(
  samples: readonly ConsumptionSample[],
  now: number,
  windowMs: number,
): { stuck: false } | { stuck: true; reason: string } {
  const last = samples.at(-1);
  if (!last) return { stuck: false };
  if (!last.running) return { stuck: true, reason: 'its fetch loop has stopped' };
  const window = samples.filter((s) => s.at >= now - windowMs);
  const first = window[0];
  // Judge only a window the samples cover from end to end.
  if (!first || first.at > now - windowMs + windowMs / 4) return { stuck: false };
  const idleWithWork = window.every(
    (s) => s.waiting !== undefined && s.waiting > 0 && s.activeHere === 0,
  );
  if (idleWithWork && last.finishedHere === first.finishedHere) {
    return {
      stuck: true,
      reason: `${last.waiting} jobs waited ${Math.round((now - first.at) / 1000)} s while it took none`,
    };
  }
  return { stuck: false };
}

export interface Watchdog {
  /** `ok`, or why the worker was found stuck (until it consumes again). */
  state(): string;
  stop(): void;
}

/**
 * Samples a worker every `everyMs`; when {@link judgeConsumption} finds it stuck, reports it in
 * `state()` (the worker's /readyz) and heals it: a stopped fetch loop is started again (the
 * workaround BullMQ's maintainers give in taskforcesh/bullmq#648), a fetch that never returns
 * gets its connections re-created (ioredis reconnects them, and BullMQ's loop retries). Redis
 * commands here are bounded: with Redis down there is nothing to judge.
 */
export function watchConsumption(options: {
  queue: Queue;
  worker: Worker;
  counts: () => { activeHere: number; finishedHere: number };
  everyMs: number;
  windowMs: number;
  logger: Logger;
}): Watchdog {
  const { worker } = options;
  let samples: ConsumptionSample[] = [];
  let state = 'ok';
  let busy = false;
  /** Set by a heal: not ready until the new worker finishes a job or the queue is empty. */
  let recovering: { finishedHere: number } | undefined;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      let waiting: number | undefined;
      await settleWithin(
        options.everyMs,
        options.queue.getWaitingCount().then((n) => {
          waiting = n;
        }),
      );
      if (worker.closing) return;
      const now = Date.now();
      samples.push({ at: now, waiting, running: worker.isRunning(), ...options.counts() });
      samples = samples.filter((s) => s.at >= now - 2 * options.windowMs);
      const verdict = judgeConsumption(samples, now, options.windowMs);
      if (!verdict.stuck) {
        const last = samples.at(-1)!;
        if (!recovering || last.waiting === 0 || last.finishedHere > recovering.finishedHere) {
          recovering = undefined;
          state = 'ok';
        }
        return;
      }
      state = `stuck: ${verdict.reason}; replaced the worker, waiting for it to consume`;
      options.logger.error({ reason: verdict.reason }, 'worker stuck; replacing it');
      samples = [];
      recovering = { finishedHere: options.counts().finishedHere };
      await heal(worker, options.logger);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), options.everyMs);
  timer.unref();
  return {
    state: () => state,
    stop: () => clearInterval(timer),
  };
}

/** Restarts a stopped fetch loop, or drops the worker's connections so ioredis re-creates them. */
async function heal(worker: Worker, logger: Logger): Promise<void> {
  if (!worker.isRunning()) {
    worker.run().catch((error: unknown) => logger.error({ err: error }, 'worker loop ended'));
    return;
  }
  // BullMQ 6 keeps its Redis clients on its backend (`client`, `blockingClient`, the escape
  // hatches of RedisQueueBackend). Dropping them ends a fetch that hangs; ioredis reconnects.
  const backend = (worker as unknown as { backend?: RedisClients }).backend;
  for (const client of [await backend?.blockingClient, await backend?.client]) {
    client?.disconnect(true);
  }
}

interface RedisClients {
  client: Promise<{ disconnect(reconnect?: boolean): void }>;
  blockingClient: Promise<{ disconnect(reconnect?: boolean): void }> | undefined;
}
