/**
 * A job payload with what people wrote and who they are replaced by its length: the reply's
 * `message`, inline attachment `data`, and the guest author's `name` and `email`. Dead letters
 * are read by operators who need the job's shape, not its content (`dlq show --full` shows all).
 */
export function redactPayload(payload: unknown): unknown {
  if (!isRecord(payload)) return payload;
  const out = redactFields(payload, ['message']);
  if (isRecord(out.author)) out.author = redactFields(out.author, ['name', 'email']);
  if (Array.isArray(out.attachments)) {
    out.attachments = out.attachments.map((a: unknown) =>
      isRecord(a) ? redactFields(a, ['data']) : a,
    );
  }
  return out;
}

function redactFields(
  record: Record<string, unknown>,
  fields: readonly string[],
): Record<string, unknown> {
  const out = { ...record };
  for (const field of fields) {
    const value = out[field];
    if (value === undefined || value === null) continue;
    // A malformed job (dead-lettered as invalid_job) may hold anything there, not only text.
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    out[field] = `[redacted: ${text.length} chars]`;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
