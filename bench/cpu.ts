import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { cpuSecondsIn, cpuSecondsOf, mainThreadCpuSecondsOf } from './processes.ts';
import { median } from './rounds.ts';

/**
 * CPU seconds, by who spent them, while one side served a load or drained a queue. On a 2-core
 * machine every process competes for the same cores, so a side that makes Redis or PostgreSQL
 * work pays for it in throughput even though its own process is as lean as the other's.
 */
export interface CpuSplit {
  /** The side's own processes (server, worker, or both end to end). */
  service: number;
  /** Of that, their main threads: JavaScript runs there, so each is bound at one core. */
  serviceMainThreads: number;
  redis: number;
  /** Every `postgres` process: backends, WAL writer, checkpointer. */
  postgres: number;
  /** The orchestrator: the load generator (autocannon runs in it) and its polling. */
  load: number;
}

/** The parts that add up to the total (the main threads are part of `service`). */
const PARTS = ['service', 'redis', 'postgres', 'load'] as const;
const ALL_PARTS = [...PARTS, 'serviceMainThreads'] as const;

/** Starts counting; the returned function gives what each part has spent since. */
export type CpuMeter = () => CpuSplit;

/** Redis's own pid, so its CPU can be read from /proc (it runs on this machine, as the bench requires). */
export async function redisPid(redis: Redis): Promise<number> {
  const info = await redis.info('server');
  const match = /^process_id:(\d+)/m.exec(info);
  if (!match) throw new Error('Redis INFO has no process_id');
  return Number(match[1]);
}

export function startCpuMeter(servicePids: readonly number[], redis: number): CpuMeter {
  const read = () => ({
    service: servicePids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0),
    serviceMainThreads: servicePids.reduce((sum, pid) => sum + mainThreadCpuSecondsOf(pid), 0),
    redis: cpuSecondsOf(redis),
    postgres: postgresCpuSeconds(),
    load: orchestratorCpuSeconds(),
  });
  const before = read();
  return () => {
    const after = read();
    // Per process: a backend that has ended since is gone from both sides of its difference
    // (what it spent in between is lost, not subtracted); one that has started counts whole.
    let postgres = 0;
    for (const [pid, seconds] of after.postgres)
      postgres += seconds - (before.postgres.get(pid) ?? 0);
    return {
      service: after.service - before.service,
      serviceMainThreads: after.serviceMainThreads - before.serviceMainThreads,
      redis: after.redis - before.redis,
      postgres,
      load: after.load - before.load,
    };
  };
}

/** Microseconds of each part per unit of work (per answer, per job). */
export function perUnit(split: CpuSplit, units: number): CpuSplit {
  const out = { ...split };
  for (const part of ALL_PARTS) out[part] = (split[part] * 1e6) / units;
  return out;
}

/**
 * Medians over rounds, e.g. `310 + 45 + 20 + 140 = 515 µs`. The notes print these for both sides
 * of a ratio: the totals say how much of the two cores one unit of work takes, whoever spends it.
 */
export function cpuSplitNote(rounds: readonly CpuSplit[]): string {
  const parts = PARTS.map((part) => median(rounds.map((r) => r[part])));
  const total = parts.reduce((a, b) => a + b, 0);
  return `${parts.map((us) => us.toFixed(0)).join(' + ')} = ${total.toFixed(0)} µs`;
}

/** What the note's four numbers are, in order. */
export const CPU_SPLIT_LEGEND = 'own process(es) + Redis + PostgreSQL + load generator';

function orchestratorCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** CPU seconds of each process named `postgres`: on this machine, the only PostgreSQL. */
function postgresCpuSeconds(): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.includes('(postgres)')) seconds.set(Number(entry), cpuSecondsIn(stat));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return seconds;
}
