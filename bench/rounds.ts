import type { Child, Program } from './processes.ts';
import type { BenchStack } from './stack.ts';

/** What a scenario gets from the orchestrator. */
export interface ScenarioContext {
  stack: BenchStack;
  rounds: number;
  /**
   * Starts a child with this prefix, and `env` over the stack's (SMTP_URL, a setting under
   * test); the orchestrator stops it when the scenario ends.
   */
  start(
    name: string,
    program: Program,
    prefix: string,
    env?: Readonly<Record<string, string>>,
  ): Promise<Child>;
}

export interface Scenario {
  id: string;
  /** Set where a scenario runs once whatever --rounds says (it reads ctx.rounds otherwise). */
  fixedRounds?: number;
  run(ctx: ScenarioContext): Promise<Row[]>;
}

export type Verdict = 'PASS' | 'FAIL' | 'info' | 'INVALID';

/**
 * A target on the median per-round ratio, or a bound on Ticketflow's own figure (memory), which
 * is checked against its worst round.
 */
export interface Target {
  on: 'ratio' | 'ticketflow';
  op: '>=' | '<=';
  value: number;
  text: string;
}

export interface Row {
  scenario: string;
  metric: string;
  unit: string;
  baselineName: string;
  /** Per round, in round order; the same index is the same round on both sides. */
  ticketflow: number[];
  baseline: number[];
  ratios: number[];
  ratio?: { median: number; min: number; max: number };
  target?: Target;
  verdict: Verdict;
  note?: string;
}

export interface RowSpec {
  scenario: string;
  metric: string;
  unit: string;
  baselineName: string;
  target?: Target;
  note?: string;
}

/**
 * Builds a row from per-round figures: the ratio is the median of the per-round ratios, so a
 * slow round (a GC pause, a noisy neighbour) moves both sides of its own ratio, not the result.
 */
export function ratioRow(spec: RowSpec, ticketflow: number[], baseline: number[]): Row {
  const ratios = ticketflow.map((tf, i) => tf / baseline[i]!);
  const ratio =
    ratios.length > 0
      ? { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
      : undefined;
  return {
    ...spec,
    ticketflow,
    baseline,
    ratios,
    ...(ratio ? { ratio } : {}),
    verdict: verdictOf(spec.target, ratio?.median, ticketflow),
  };
}

function verdictOf(target: Target | undefined, ratio: number | undefined, tf: number[]): Verdict {
  if (!target) return 'info';
  if (tf.length === 0) return 'INVALID';
  const meets = (x: number) => (target.op === '>=' ? x >= target.value : x <= target.value);
  if (target.on === 'ratio') return ratio !== undefined && meets(ratio) ? 'PASS' : 'FAIL';
  return tf.every(meets) ? 'PASS' : 'FAIL';
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The order the sides run in within a round: as given in even rounds, reversed in odd ones, so
 * neither side always runs first (on a warmer or cooler machine, after the other's GC).
 */
export function inRoundOrder<T>(round: number, sides: readonly T[]): T[] {
  return round % 2 === 0 ? [...sides] : [...sides].reverse();
}
