import { apiError } from './errors.ts';

/**
 * A request field after body parsing, whatever the encoding. Objects are Maps, so no key
 * (`__proto__`, `constructor`) can ever reach an object prototype.
 */
export type FormValue = string | number | boolean | null | FormValue[] | FormMap;
export type FormMap = ReadonlyMap<string, FormValue>;

/** Deeper nesting than any honest client sends; bounds recursion on hostile JSON. */
const MAX_DEPTH = 32;

/**
 * Copies parsed JSON, or the null-prototype tree multer and the form parser build, into
 * FormValues. Sparse arrays (`attachments[99999999]`) are compacted, never expanded.
 */
export function toFormValue(value: unknown, depth = 0): FormValue {
  if (depth > MAX_DEPTH) throw apiError('malformed_body', `nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) {
    // Object.keys visits only the items present; walking `length` would let
    // `attachments[4294967294]=x` (30 bytes) cost over a minute of CPU.
    const keys = Object.keys(value);
    if (keys.length === value.length) return value.map((item) => toFormValue(item, depth + 1));
    // A sparse array is a PHP array with explicit keys (`customfields[7]=x`): keep the keys.
    return new Map(
      keys.map((key) => [key, toFormValue((value as unknown[])[Number(key)], depth + 1)]),
    );
  }
  if (typeof value === 'object') {
    const out = new Map<string, FormValue>();
    for (const key of Object.keys(value)) {
      out.set(key, toFormValue((value as Record<string, unknown>)[key], depth + 1));
    }
    return out;
  }
  throw apiError('malformed_body', `unsupported value of type ${typeof value}`);
}

/**
 * A field's value, or undefined when it is missing, null or blank: PHP forms send every field
 * of a form, empty ones as `""`, and an empty optional field means "not given".
 */
export function fieldValue(fields: FormMap, name: string): FormValue | undefined {
  const value = fields.get(name);
  return value === null || (typeof value === 'string' && value.trim() === '') ? undefined : value;
}

/** True for the values API.md lets mean "none": `""`, `"[]"`, `"W10="` (base64 of `[]`), `[]`, `{}`. */
export function isEmptyList(value: FormValue | undefined): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') return ['', '[]', 'W10='].includes(value.trim());
  if (Array.isArray(value)) return value.length === 0;
  if (value instanceof Map) return value.size === 0;
  return false;
}
