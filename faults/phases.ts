import type { Queue } from 'bullmq';
import { MAINTENANCE_QUEUE } from '@ticketflow/queue';
import { OBSERVER_APPLICATION } from './database.ts';
import { FREEZE_MS, SETTINGS } from './settings.ts';
import type { ServeProcess } from './serve-process.ts';
import type { FaultStack } from './stack.ts';

/** One fault, inflicted while the load runs. */
export interface Phase {
  id: number;
  name: string;
  /**
   * A process is taken away between a notification's send and its record (SIGKILL, or a freeze
   * past its lock that hands its jobs to another worker): the one case a duplicate is expected.
   */
  allowsDuplicateDeliveries: boolean;
  /** What shows the service works again (see tally.ts). */
  recoveryEvidence: 'reply' | 'webhook';
  /**
   * Breaks the stack and puts it back; resolves when the fault is over (every process ready,
   * Redis answering, the receiver listening), with a line of what it did and what the product
   * failed to do meanwhile (none: it did its part).
   */
  inflict(stack: FaultStack, progress: (line: string) => void): Promise<Inflicted>;
}

export interface Inflicted {
  what: string;
  problems: string[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const PHASES: readonly Phase[] = [
  {
    id: 1,
    name: 'worker SIGKILL every second',
    allowsDuplicateDeliveries: true,
    recoveryEvidence: 'reply',
    async inflict(stack, progress) {
      const replacements: Array<Promise<void>> = [];
      for (let second = 0; second < SETTINGS.workerKillSeconds; second++) {
        const tick = Date.now();
        // A replacement takes seconds to start under this load, so some seconds find every
        // worker down; the jobs then wait in Redis, as they would in a crash loop.
        const slot = oldestRunningSlot(stack);
        if (slot !== undefined) {
          replacements.push((await stack.crashWorker(slot)).replaced);
          progress(`killed worker-${slot}`);
        }
        await sleep(Math.max(0, 1000 - (Date.now() - tick)));
      }
      await Promise.all(replacements);
      return {
        what: `${replacements.length} workers killed in ${SETTINGS.workerKillSeconds} s, each restarted`,
        problems: [],
      };
    },
  },
  {
    id: 2,
    name: 'ingress SIGKILL and restart',
    allowsDuplicateDeliveries: false,
    recoveryEvidence: 'reply',
    async inflict(stack) {
      const began = Date.now();
      await stack.crashIngress();
      return {
        what: `ingress back after ${((Date.now() - began) / 1000).toFixed(1)} s`,
        problems: [],
      };
    },
  },
  {
    id: 3,
    name: 'Redis SHUTDOWN and restart',
    allowsDuplicateDeliveries: false,
    recoveryEvidence: 'reply',
    inflict: (stack) => restartRedis(stack, () => stack.redis.shutdown()),
  },
  {
    id: 4,
    name: 'Redis SIGKILL and restart',
    allowsDuplicateDeliveries: false,
    recoveryEvidence: 'reply',
    inflict: (stack) => restartRedis(stack, () => stack.redis.kill('SIGKILL')),
  },
  {
    id: 5,
    name: 'PostgreSQL backends terminated',
    allowsDuplicateDeliveries: false,
    recoveryEvidence: 'reply',
    async inflict(stack, progress) {
      let terminated = 0;
      for (let second = 0; second < SETTINGS.pgTerminateSeconds; second++) {
        const tick = Date.now();
        // Every backend of the product's processes; the run's own connections read the tally.
        try {
          const result = await stack.database.admin.raw<{ rows: unknown[] }>(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = ? AND pid <> pg_backend_pid() AND application_name <> ?`,
            [stack.database.name, OBSERVER_APPLICATION],
          );
          terminated += result.rows.length;
        } catch (error) {
          progress(`could not terminate this second: ${(error as Error).message}`);
        }
        await sleep(Math.max(0, 1000 - (Date.now() - tick)));
      }
      if (terminated === 0) throw new Error('no PostgreSQL backend could be terminated');
      return {
        what: `${terminated} backends terminated over ${SETTINGS.pgTerminateSeconds} s`,
        problems: [],
      };
    },
  },
  {
    id: 6,
    name: 'worker SIGSTOP past its lock',
    allowsDuplicateDeliveries: true,
    recoveryEvidence: 'reply',
    async inflict(stack) {
      const { worker, held } = await freezeHoldingJobs(stack);
      const frozenAt = Date.now();
      // Past its lock, the frozen worker's jobs must be found stalled and handed to the others
      // before it wakes; whatever it finishes then is a duplicate the dedupe key (a reply) or
      // the delivery record (a notification) stops, or a resend its id makes known. Watched
      // throughout: once run again, a job is soon trimmed from the completed set.
      const handedOverAfter = new Map<string, number>();
      while (Date.now() - frozenAt < FREEZE_MS) {
        for (const { queue, id } of held) {
          if (handedOverAfter.has(id)) continue;
          const job = await queue.getJob(id);
          if ((job?.stalledCounter ?? 0) > 0) handedOverAfter.set(id, Date.now() - frozenAt);
        }
        await sleep(1000);
      }
      worker.thaw();
      const handed = [...handedOverAfter].map(
        ([id, ms]) => `${id} after ${Math.round(ms / 1000)} s`,
      );
      return {
        what:
          `${worker.name} frozen ${FREEZE_MS / 1000} s holding ${held.length} jobs; ` +
          `handed over: ${handed.join(', ') || 'none'}`,
        problems: held
          .filter(({ id }) => !handedOverAfter.has(id))
          .map(({ id }) => `${id} stayed with the frozen worker past its lock`),
      };
    },
  },
  {
    id: 7,
    name: 'webhook receiver down, then up',
    allowsDuplicateDeliveries: false,
    recoveryEvidence: 'webhook',
    async inflict(stack) {
      await stack.hooks.stop();
      await sleep(SETTINGS.receiverDownMs);
      await stack.hooks.start();
      return { what: `receiver down ${SETTINGS.receiverDownMs / 1000} s`, problems: [] };
    },
  },
];

/**
 * The slot of the longest-running worker, the one most likely to hold jobs; never a slot whose
 * replacement is still starting.
 */
function oldestRunningSlot(stack: FaultStack): number | undefined {
  const running = stack
    .workers()
    .map((worker, slot) => ({ worker, slot }))
    .filter(({ worker }) => worker.running())
    .sort((a, b) => a.worker.startedAt - b.worker.startedAt);
  return running[0]?.slot;
}

/**
 * Freezes a worker at a moment it holds jobs: a reply or notification job taken before the
 * freeze and still active a little later is the frozen worker's (the others finish theirs in
 * milliseconds; a second look a second later rules out one that was merely slow). If it holds
 * none, it is thawed and the next worker tried: a job lasts milliseconds, so it takes a few.
 */
async function freezeHoldingJobs(
  stack: FaultStack,
): Promise<{ worker: ServeProcess; held: Array<{ queue: Queue; id: string }> }> {
  const watched = stack.queues.filter((q) => q.name !== MAINTENANCE_QUEUE);
  const takenBefore = async (at: number) =>
    (
      await Promise.all(
        watched.map(async (queue) =>
          (await queue.getActive())
            .filter((job) => job.processedOn !== undefined && job.processedOn <= at)
            .map((job) => ({ queue, id: job.id! })),
        ),
      )
    ).flat();
  for (let attempt = 0; attempt < 200; attempt++) {
    const worker = stack.workers()[attempt % stack.workers().length]!;
    const frozenAt = Date.now();
    worker.freeze();
    await sleep(300);
    if ((await takenBefore(frozenAt)).length > 0) {
      await sleep(1000);
      const held = await takenBefore(frozenAt);
      if (held.length > 0) return { worker, held };
    }
    worker.thaw();
    await sleep(100);
  }
  throw new Error('no worker held a job at any of 200 freezes');
}

/** Stops Redis the given way, keeps it down for a while, and starts it again on its AOF. */
async function restartRedis(stack: FaultStack, stop: () => Promise<void>): Promise<Inflicted> {
  await stop();
  await sleep(SETTINGS.redisDownMs);
  await stack.redis.start();
  return { what: `Redis down ${SETTINGS.redisDownMs / 1000} s`, problems: [] };
}
