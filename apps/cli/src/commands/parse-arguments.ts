import type { QueueDefinition } from '@ticketflow/queue';
import { UsageError } from './usage-error.ts';

/** PostgreSQL `integer`, the type of every id the CLI takes. */
const MAX_ID = 2_147_483_647;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A row id: a positive integer, written plainly (no sign, exponent or leading zero). */
export function parseId(text: string, what: string): number {
  const id = /^[1-9]\d*$/.test(text) ? Number(text) : NaN;
  if (!(id <= MAX_ID)) throw new UsageError(`${what} must be a positive integer, got "${text}"`);
  return id;
}

/** `--limit`: how many rows to print, 1 to `max`. */
export function parseLimit(text: string, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= max)) {
    throw new UsageError(`--limit must be a whole number from 1 to ${max}, got "${text}"`);
  }
  return n;
}

/** An age such as `30d`, `12h` or `90m`, in milliseconds. */
export function parseAge(text: string, option: string): number {
  const m = /^(\d+)([dhm])$/.exec(text);
  const n = m ? Number(m[1]) : 0;
  if (!m || n < 1) {
    throw new UsageError(
      `${option}: expected an age in days, hours or minutes such as 30d, 12h or 90m, got "${text}"`,
    );
  }
  return n * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** `--queue`: the catalog's queue of that name. */
export function parseQueueName(name: string, queues: readonly QueueDefinition[]): QueueDefinition {
  const queue = queues.find((q) => q.name === name);
  if (!queue) {
    throw new UsageError(
      `--queue: unknown queue "${name}"; the queues are ${queues.map((q) => q.name).join(', ')}`,
    );
  }
  return queue;
}

/** A comma-separated list of names, each one of `known`; duplicates and blanks dropped. */
export function parseNameList(text: string, known: readonly string[], option: string): string[] {
  const names = [...new Set(text.split(',').map((s) => s.trim()))].filter((s) => s !== '');
  const unknown = names.filter((n) => !known.includes(n));
  if (names.length === 0 || unknown.length > 0) {
    const what = names.length === 0 ? 'nothing given' : `unknown: ${unknown.join(', ')}`;
    throw new UsageError(`${option}: ${what}; known: ${known.join(', ')}`);
  }
  return names;
}
