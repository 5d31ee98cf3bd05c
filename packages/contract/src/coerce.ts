import { z } from 'zod';
import { apiError } from './errors.ts';
import type { FormValue } from './form-value.ts';

/** PostgreSQL `integer` ids top out here. */
export const MAX_ID = 2_147_483_647;

/** A single text value; numbers are accepted as their decimal text (JSON bodies). */
export function readText(field: string, value: FormValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw apiError('invalid_parameter', field, 'send a single text value');
}

/** API.md §4 booleans: `1 true on yes` / `0 false off no ""` in any case, or JSON booleans. */
export function readBoolean(field: string, value: FormValue): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const lower = text.trim().toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(lower)) return true;
  if (['0', 'false', 'off', 'no', ''].includes(lower)) return false;
  throw apiError('invalid_boolean', field, text);
}

/** A positive integer id: a JSON integer or a string of digits (`1.5`, `1e3`, `-1` are refused). */
export function readPositiveInt(field: string, value: FormValue): number {
  let n: number;
  if (typeof value === 'number' && Number.isInteger(value)) n = value;
  else if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) n = Number(value.trim());
  else
    throw apiError(
      'invalid_integer',
      field,
      typeof value === 'string' ? value : JSON.stringify(value),
    );
  if (n < 1) throw apiError('invalid_integer', field, String(value));
  if (n > MAX_ID)
    throw apiError('invalid_parameter', field, `${n} is out of range (at most ${MAX_ID})`);
  return n;
}

/** WHMCS `tid`: at most 15 letters, digits or dashes. */
export const TICKET_NUMBER = /^[A-Za-z0-9-]{1,15}$/;

export function readTicketNumber(value: FormValue): string {
  const text = readText('ticketnum', value).trim();
  if (!TICKET_NUMBER.test(text)) {
    throw apiError('invalid_parameter', 'ticketnum', 'use 1 to 15 letters, digits or dashes');
  }
  return text;
}

const emailSchema = z.email();

/** Email syntax, the same rule the job contract applies. */
export function isEmail(value: string): boolean {
  return value.length <= 255 && emailSchema.safeParse(value).success;
}

const SQL_STYLE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * `created`: ISO 8601 or `YYYY-MM-DD HH:mm:ss`, both UTC unless an offset is given.
 * Returns the instant, or undefined for anything else (including impossible dates).
 */
export function parseCreated(text: string): Date | undefined {
  const t = text.trim();
  const m = SQL_STYLE.exec(t) ?? ISO_8601.exec(t);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = Number(m[6] ?? 0);
  const ms = Number((m[7] ?? '0').slice(0, 3).padEnd(3, '0'));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(utc);
  // Date.UTC rolls 2026-02-30 over into March; a date that moved was not a real one.
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return undefined;
  }
  const offset = m[8] && m[8].toUpperCase() !== 'Z' ? parseOffsetMinutes(m[8]) : 0;
  if (offset === undefined) return undefined;
  return new Date(utc - offset * 60_000);
}

function parseOffsetMinutes(offset: string): number | undefined {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(offset);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  if (Number(m[2]) > 23 || Number(m[3]) > 59) return undefined;
  return m[1] === '-' ? -minutes : minutes;
}
