/**
 * Keys whose values are what people wrote or who they are, wherever they sit in a job: the
 * reply's `message`, the author's `name`, `email` and `admin` (a staff display name), inline
 * attachment `data` (and the attachment's file `name`, which often carries a person's name),
 * and custom field `value`s (free text the customer typed).
 */
const REDACTED_KEYS = new Set(['message', 'name', 'email', 'admin', 'data', 'value']);

/** An address anywhere else in a string (an SMTP answer that echoes the recipient, a bad job). */
const EMAIL_ADDRESS = /[^\s<>()[\]"',;:@]+@[^\s<>()[\]"',;:@]+\.[^\s<>()[\]"',;:@]+/g;

/** Nesting beyond any contract's shape: a malformed job is cut off here rather than walked. */
const MAX_DEPTH = 16;

/**
 * A job's data or return value as operators are shown it (the dashboard's job views, `ticketflow
 * dlq show` without `--full`): personal content replaced by its length (`[redacted: 42 chars]`),
 * everything else (ids, versions, ticket references, flags, outcomes) as it is, so people can
 * follow a job without reading the customer's words. It walks any shape, because the jobs worth
 * looking at (dead letters, malformed jobs) are often the ones that broke the contract.
 */
export function redactJobData(value: unknown): unknown {
  return redactAtDepth(value, 0);
}

function redactAtDepth(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.replace(EMAIL_ADDRESS, '[redacted email]');
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[redacted: nested too deep]';
  if (Array.isArray(value)) return value.map((item) => redactAtDepth(item, depth + 1));
  // fromEntries defines own properties: a `__proto__` key in a bad job stays a plain key.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      REDACTED_KEYS.has(key) && item !== null && item !== undefined && typeof item !== 'boolean'
        ? redactedLength(item)
        : redactAtDepth(item, depth + 1),
    ]),
  );
}

function redactedLength(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `[redacted: ${text.length} chars]`;
}
