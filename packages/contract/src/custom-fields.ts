import { decodeBase64 } from './decode-base64.ts';
import { apiError } from './errors.ts';
import { isEmptyList, type FormMap, type FormValue } from './form-value.ts';
import { parsePhpSerializedArray, type PhpScalar } from './parse-php-serialized.ts';

/** One custom field value as sent: the field by id or by name. */
export interface CustomFieldInput {
  field: number | string;
  value: string;
}

/** A custom field of a department (WHMCS field types). */
export interface CustomFieldDefinition {
  id: number;
  name: string;
  type: 'text' | 'link' | 'password' | 'dropdown' | 'tickbox' | 'textarea';
  options: readonly string[];
  regex: string | null;
}

/** Largest value, in UTF-8 bytes (API.md §5). */
export const MAX_CUSTOM_FIELD_BYTES = 64 * 1024;

/**
 * Reads `customfields` in every shape API.md §5 accepts: base64 of a PHP `serialize()`d array,
 * base64 of a JSON object, a JSON object (JSON bodies, or raw JSON text), and PHP form arrays
 * (`customfields[1]=Google`). `""`, `"[]"`, `"W10="` and `{}` mean none.
 */
export function readCustomFields(value: FormValue | undefined): CustomFieldInput[] {
  if (isEmptyList(value)) return [];
  if (value instanceof Map) return [...(value as FormMap)].map(([key, v]) => entry(key, v));
  if (typeof value !== 'string') {
    throw apiError(
      'invalid_parameter',
      'customfields',
      'send base64 of a PHP serialized array, or an object of field ids or names to values',
    );
  }
  const text = value.trim();
  if (text.startsWith('{') || text.startsWith('[')) return fromJson(text);
  const bytes = decodeBase64(text);
  if (!bytes)
    throw apiError(
      'invalid_parameter',
      'customfields',
      'not valid base64 (send base64_encode(serialize($array)))',
    );
  const decoded = bytes.toString('utf8').trim();
  if (decoded.startsWith('{')) return fromJson(decoded);
  if (decoded === '[]' || decoded === '') return [];
  return parsePhpSerializedArray(bytes).map(([key, v]) => entry(String(key), v));
}

function fromJson(text: string): CustomFieldInput[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw apiError('invalid_parameter', 'customfields', 'not a valid JSON object');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw apiError(
      'invalid_parameter',
      'customfields',
      'the JSON must be an object of field ids or names to values',
    );
  }
  // Object.keys lists `__proto__` as the own key JSON.parse made it; nothing is assigned anywhere.
  return Object.keys(parsed).map((key) =>
    entry(key, (parsed as Record<string, unknown>)[key] as FormValue),
  );
}

function entry(key: string, value: FormValue | PhpScalar): CustomFieldInput {
  const field = /^[1-9]\d{0,9}$/.test(key) ? Number(key) : key;
  return { field, value: stringify(field, value) };
}

function stringify(field: number | string, value: FormValue | PhpScalar): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  // A PHP true is how a ticked tickbox is most often serialized; WHMCS stores tickboxes as "on".
  if (typeof value === 'boolean') return value ? 'on' : '';
  throw apiError(
    'invalid_parameter',
    'customfields',
    `the value of ${JSON.stringify(String(field))} must be a single value, not a list`,
  );
}

/**
 * Checks values against the ticket's department's fields and resolves names to ids. Pure:
 * the ingress runs it before enqueueing, the worker again on every job.
 */
export function resolveCustomFields(
  inputs: readonly CustomFieldInput[],
  definitions: readonly CustomFieldDefinition[],
): Array<{ fieldId: number; value: string }> {
  const resolved = new Map<number, string>();
  for (const input of inputs) {
    const matches = definitions.filter(
      (d) => (typeof input.field === 'number' ? d.id : d.name) === input.field,
    );
    const label =
      typeof input.field === 'number' ? String(input.field) : JSON.stringify(input.field);
    const field = matches[0];
    if (!field)
      throw apiError(
        'invalid_custom_field',
        `${label} does not exist for this ticket's department`,
      );
    // API.md §5: a name must match exactly one field of the department.
    if (matches.length > 1) {
      throw apiError(
        'invalid_custom_field',
        `${label} names ${matches.length} fields of this department; send its id (${matches.map((d) => d.id).join(', ')})`,
      );
    }
    checkValue(field, input.value);
    // Sent twice (by id and by name): the last one wins, as PHP arrays do.
    resolved.set(field.id, input.value);
  }
  return [...resolved].map(([fieldId, value]) => ({ fieldId, value }));
}

function checkValue(field: CustomFieldDefinition, value: string): void {
  const label = `${field.id} (${field.name})`;
  if (Buffer.byteLength(value, 'utf8') > MAX_CUSTOM_FIELD_BYTES) {
    throw apiError('invalid_custom_field', `${label}: the value exceeds 64 KiB`);
  }
  if (field.type === 'dropdown' && value !== '' && !field.options.includes(value)) {
    throw apiError(
      'invalid_custom_field',
      `${label}: ${JSON.stringify(value)} is not one of ${field.options.join(', ')}`,
    );
  }
  if (field.type === 'tickbox' && value !== '' && value !== 'on') {
    throw apiError('invalid_custom_field', `${label}: a tickbox takes "on" or an empty value`);
  }
  if (field.regex && value !== '') {
    const pattern = compilePattern(field.regex);
    if (!pattern)
      throw apiError(
        'invalid_custom_field',
        `${label}: its validation pattern is invalid; ask an administrator to fix it`,
      );
    if (!pattern.test(value))
      throw apiError(
        'invalid_custom_field',
        `${label}: the value does not match the field's pattern`,
      );
  }
}

/** WHMCS stores patterns PHP-style, `/^\d+$/i`; a bare pattern works too. */
function compilePattern(source: string): RegExp | undefined {
  const delimited = /^\/(.*)\/([a-z]*)$/s.exec(source);
  try {
    return delimited
      ? new RegExp(delimited[1]!, delimited[2]!.replace(/[^imsu]/g, ''))
      : new RegExp(source);
  } catch {
    return undefined;
  }
}
