/** One method's result in an Authentication-Results header: `dkim=pass header.d=example.com`. */
export interface AuthResult {
  /** Lower case, without its version: `dkim`, `spf`, `dmarc`, `arc`. */
  method: string;
  /** Lower case: `pass`, `fail`, `none`, … */
  result: string;
  /** `ptype.property` (lower case) → value as written, quotes removed: `header.d` → `example.com`. */
  props: ReadonlyMap<string, string>;
}

/** An Authentication-Results header (RFC 8601 §2.2): who checked, and what they found. */
export interface AuthenticationResults {
  /** The checking host's id, lower case: only a header with our MTA's id is trusted. */
  authservId: string;
  results: AuthResult[];
}

/**
 * Reads one Authentication-Results value. Comments (`(…)`, nested) are dropped outside quoted
 * strings, the value is split at `;`, and each part after the authserv-id is `method=result`
 * followed by `name=value` pairs (`reason=…`, `ptype.property=…`). A part that does not start
 * with `method=result` is skipped: one odd result must not hide the others. Undefined when
 * there is no authserv-id. Pure.
 */
export function readAuthenticationResults(value: string): AuthenticationResults | undefined {
  const [head = '', ...parts] = splitOutsideQuotes(withoutComments(value), ';');
  // `authserv-id [version]`: the id is the first word, possibly quoted.
  const authservId = unquote(head.trim().split(/\s+/)[0] ?? '').toLowerCase();
  if (authservId === '') return undefined;
  const results: AuthResult[] = [];
  for (const part of parts) {
    const pairs = [...part.matchAll(PAIR)].map(([, name = '', v = '']) => [name, unquote(v)]);
    const [method, result] = pairs[0] ?? [];
    if (method === undefined || result === undefined) continue;
    results.push({
      method: method.split('/')[0]!.trim().toLowerCase(),
      result: result.toLowerCase(),
      props: new Map(pairs.slice(1).map(([name, v]) => [name!.toLowerCase(), v!])),
    });
  }
  return { authservId, results };
}

/**
 * `name = value`: a run of quoted strings and of anything but space, `;` and `"`, so a value
 * with a quoted local-part (`"ann@client.example"@evil.example`) is read whole.
 */
const PAIR = /([A-Za-z0-9_.-]+(?:\s*\/\s*\d+)?)\s*=\s*((?:"(?:[^"\\]|\\.)*"|[^\s;"])+)/g;

/** The text with RFC 5322 comments removed (nested, with `\` escapes), quoted strings kept. */
function withoutComments(text: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === '\\') {
      if (depth === 0) out += c + (text[i + 1] ?? '');
      i += 1;
    } else if (quoted) {
      out += c;
      if (c === '"') quoted = false;
    } else if (c === '(') {
      depth += 1;
    } else if (c === ')' && depth > 0) {
      depth -= 1;
    } else if (depth === 0) {
      if (c === '"') quoted = true;
      out += c;
    }
  }
  return out;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\\') i += 1;
    else if (c === '"') quoted = !quoted;
    else if (c === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** A value that is one quoted string, unquoted; anything else as it is. */
function unquote(value: string): string {
  return /^"(?:[^"\\]|\\.)*"$/.test(value) ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
}
