import { CPU_SPLIT_LEGEND, cpuSplitNote } from '../cpu.ts';
import { measureLoad, type LoadFigures } from '../load.ts';
import {
  jsonPayload,
  multipartPayload,
  REPLY_PATH,
  urlencodedPayload,
  type Payload,
} from '../payloads.ts';
import type { Program } from '../processes.ts';
import { inRoundOrder, median, ratioRow, type Row, type Scenario, type Target } from '../rounds.ts';
import { deleteKeys } from '@ticketflow/testing/redis';
import { BASELINES, baselineProgram, type BaselineKey } from './baselines.ts';

const KiB = 1024;

interface IngressSpec {
  id: string;
  title: string;
  payload: (ticketId: number) => Payload;
  /** Baselines run in the same rounds; (b) always, (a) and (m) where they say something. */
  baselines: readonly BaselineKey[];
  /** Target on req/s ÷ (b); multipart is held to (m) instead. */
  throughputTarget?: Target;
}

const atLeast = (value: number): Target => ({
  on: 'ratio',
  op: '>=',
  value,
  text: `≥ ${value.toFixed(1)}`,
});
const atMost = (value: number): Target => ({
  on: 'ratio',
  op: '<=',
  value,
  text: `≤ ${value.toFixed(1)}`,
});

function ingressScenario(spec: IngressSpec): Scenario {
  return {
    id: spec.id,
    async run(ctx) {
      const { stack } = ctx;
      const payload = spec.payload(stack.seed.ticketId);
      const sides: Array<{ key: 'ticketflow' | BaselineKey; program: Program }> = [
        { key: 'ticketflow', program: { kind: 'ticketflow', mode: 'ingress' } },
        ...spec.baselines.map((key) => ({ key, program: baselineProgram(key) })),
      ];
      const started = [];
      for (const side of sides) {
        const prefix = stack.prefix(`${spec.id}-${side.key}`);
        const child = await ctx.start(`${spec.id}-${side.key}`, side.program, prefix);
        started.push({ ...side, prefix, child });
      }

      const figures = new Map<string, LoadFigures[]>(sides.map((s) => [s.key, []]));
      for (let round = 0; round < ctx.rounds; round++) {
        for (const side of inRoundOrder(round, started)) {
          const target = { url: side.child.url + REPLY_PATH, token: stack.token, payload };
          figures
            .get(side.key)!
            .push(
              await measureLoad(`${spec.id} ${side.key} round ${round + 1}`, target, () =>
                stack.cpuMeter([side.child.pid]),
              ),
            );
          // Every run starts on an empty queue: the jobs this one left are deleted.
          await deleteKeys(stack.redis, `${side.prefix}:*`);
        }
      }

      const tf = figures.get('ticketflow')!;
      const rows: Row[] = [];
      for (const key of spec.baselines) {
        const base = figures.get(key)!;
        const common = { scenario: spec.id, baselineName: BASELINES[key].name };
        rows.push(
          ratioRow(
            {
              ...common,
              metric: `${spec.title}: req/s`,
              unit: 'req/s',
              note:
                `CPU per answer (${CPU_SPLIT_LEGEND}): ` +
                `Ticketflow ${cpuNote(tf)}; (${key}) ${cpuNote(base)}`,
              ...(key === 'b' && spec.throughputTarget ? { target: spec.throughputTarget } : {}),
              ...(key === 'm' ? { target: atLeast(0.8) } : {}),
            },
            tf.map((f) => f.rps),
            base.map((f) => f.rps),
          ),
        );
        if (key === 'b') {
          rows.push(
            ratioRow(
              { ...common, metric: `${spec.title}: p99 latency`, unit: 'ms', target: atMost(1.5) },
              tf.map((f) => f.p99Ms),
              base.map((f) => f.p99Ms),
            ),
          );
        }
      }
      return rows;
    },
  };
}

/**
 * Medians over rounds, e.g. `310 + 45 + 20 + 140 = 515 µs, server 104 % of a core (main thread
 * 97 %)`: a main thread near 100 % is what bounds the server.
 */
function cpuNote(runs: LoadFigures[]): string {
  const percent = (share: (r: LoadFigures) => number | undefined) =>
    (median(runs.map((r) => share(r) ?? NaN)) * 100).toFixed(0);
  return (
    `${cpuSplitNote(runs.map((r) => r.cpu!))}, server ${percent((r) => r.cpuShare?.process)} % ` +
    `of a core (main thread ${percent((r) => r.cpuShare?.mainThread)} %)`
  );
}

export const ingressScenarios: Scenario[] = [
  ingressScenario({
    id: 'ingress-urlencoded',
    title: 'ingress urlencoded',
    payload: urlencodedPayload,
    baselines: ['b', 'a'],
    throughputTarget: atLeast(1.0),
  }),
  ingressScenario({
    id: 'ingress-json',
    title: 'ingress JSON',
    payload: jsonPayload,
    baselines: ['b'],
    throughputTarget: atLeast(1.0),
  }),
  ingressScenario({
    id: 'ingress-multipart',
    title: 'ingress multipart, no file',
    payload: (ticketId) => multipartPayload(ticketId),
    baselines: ['b', 'm'],
  }),
  ingressScenario({
    id: 'ingress-multipart-file',
    title: 'ingress multipart, 100 KiB file',
    payload: (ticketId) => multipartPayload(ticketId, 100 * KiB),
    baselines: ['b', 'm'],
  }),
  // The same file in every request is what a signature or logo does: Ticketflow stores it once.
  // New bytes in every request show what staging a file costs when nothing is deduplicated.
  ingressScenario({
    id: 'ingress-multipart-new-file',
    title: 'ingress multipart, 100 KiB file, new bytes each request',
    payload: (ticketId) => multipartPayload(ticketId, 100 * KiB, { uniqueFile: true }),
    baselines: ['b', 'm'],
  }),
];
