import autocannon from 'autocannon';
import type { Payload } from './payloads.ts';
import { perUnit, type CpuMeter, type CpuSplit } from './cpu.ts';

/** One load shape for every side of every ratio: only the URL changes between them. */
export const LOAD = { connections: 32, warmupS: 1, durationS: 5 };

export interface Target {
  url: string;
  token: string;
  payload: Payload;
}

export interface LoadFigures {
  /** 2xx answers per second over the measured window. */
  rps: number;
  p99Ms: number;
  ok: number;
  seconds: number;
  /** With a meter: CPU µs per answer by who spent it, and the server's shares of one core. */
  cpu?: CpuSplit;
  cpuShare?: { process: number; mainThread: number };
}

/** A run that saw any non-2xx answer, socket error or timeout measured something else. */
export class InvalidRun extends Error {
  override readonly name = 'InvalidRun';
}

/**
 * Checks one request answers 2xx (so a misconfigured side fails with its answer, not as a
 * number), warms up for LOAD.warmupS, then measures LOAD.durationS with 32 connections.
 */
export async function measureLoad(
  label: string,
  target: Target,
  startMeter?: () => CpuMeter,
): Promise<LoadFigures> {
  await probe(label, target);
  if (LOAD.warmupS > 0) validate(`${label} (warm-up)`, await fire(target, LOAD.warmupS));
  // Where the time goes: a server at ~100 % of a core is CPU-bound, one well below waits on I/O.
  const meter = startMeter?.();
  const figures = validate(label, await fire(target, LOAD.durationS));
  if (!meter) return figures;
  const spent = meter();
  return {
    ...figures,
    cpu: perUnit(spent, figures.ok),
    cpuShare: {
      process: spent.service / figures.seconds,
      mainThread: spent.serviceMainThreads / figures.seconds,
    },
  };
}

/** The load without warm-up (end to end: the stack is already warm, every request counts). */
export async function measureLoadCold(
  label: string,
  target: Target,
  durationS: number,
): Promise<LoadFigures> {
  return validate(label, await fire(target, durationS));
}

function fire(target: Target, durationS: number): Promise<autocannon.Result> {
  const { uniqueAt, body } = target.payload;
  let sent = 0;
  return autocannon({
    url: target.url,
    method: 'POST',
    connections: LOAD.connections,
    duration: durationS,
    headers: {
      authorization: `Bearer ${target.token}`,
      'content-type': target.payload.contentType,
    },
    body,
    // A fresh copy with its own counter per request, for payloads that must never repeat.
    ...(uniqueAt === undefined
      ? {}
      : {
          requests: [
            {
              setupRequest: (request: autocannon.Request) => {
                const unique = Buffer.from(body);
                unique.write(`${process.pid}:${++sent}`.padEnd(24, '.'), uniqueAt, 'latin1');
                return { ...request, body: unique };
              },
            },
          ],
        }),
    // Bounded: a stuck server ends the run with timeouts instead of hanging the bench.
    timeout: 10,
  });
}

function validate(label: string, result: autocannon.Result): LoadFigures {
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) {
    throw new InvalidRun(
      `${label}: ${result.non2xx} non-2xx (4xx ${result['4xx']}, 5xx ${result['5xx']}), ` +
        `${result.errors} errors, ${result.timeouts} timeouts out of ${result.requests.total}`,
    );
  }
  return {
    rps: result['2xx'] / result.duration,
    p99Ms: result.latency.p99,
    ok: result['2xx'],
    seconds: result.duration,
  };
}

async function probe(label: string, target: Target): Promise<void> {
  const res = await fetch(target.url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${target.token}`,
      'content-type': target.payload.contentType,
    },
    body: target.payload.body,
  });
  if (!res.ok) throw new InvalidRun(`${label}: probe answered ${res.status} ${await res.text()}`);
  await res.arrayBuffer().catch(() => undefined);
}
