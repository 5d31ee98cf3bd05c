import { apiError } from './errors.ts';

/** A scalar PHP can serialize: string, int, float, bool or null. */
export type PhpScalar = string | number | boolean | null;

/** More entries than a ticket has custom fields; bounds work on hostile input. */
const MAX_ENTRIES = 1000;

/**
 * Decodes PHP `serialize()` output that must be a flat array of scalars (WHMCS `customfields`).
 * Objects (`O:`, `C:`, `E:`), references (`r:`, `R:`), nested arrays, a `s:N` length that is not
 * the UTF-8 byte length, truncation and trailing bytes are refused, and nothing is ever
 * instantiated: the result is a list of pairs, never an object whose keys could reach a
 * prototype. Numeric-string keys become integers, as PHP does (`s:1:"1"` is `i:1`).
 */
export function parsePhpSerializedArray(
  input: Buffer,
): Array<[key: number | string, value: PhpScalar]> {
  const reader: Reader = new Reader(input);
  const kind = reader.peekKind();
  if (kind !== 'a')
    reader.fail(refusal(kind, 'the top level') ?? 'expected a serialized array (a:N:{…})');
  reader.expect('a:');
  const count = reader.readInt(':');
  // PHP's count is unsigned: unserialize('a:-1:{}') is false.
  if (count < 0) reader.fail(`the entry count ${count} is negative`);
  if (count > MAX_ENTRIES) reader.fail(`more than ${MAX_ENTRIES} entries`);
  reader.expect('{');
  const pairs: Array<[number | string, PhpScalar]> = [];
  for (let i = 0; i < count; i++) {
    const next = reader.peekKind();
    if (next === '}') reader.fail(`the array declares ${count} entries but holds ${i}`);
    // PHP keys are i: or s: only; unserialize('a:1:{d:1.5;s:1:"x";}') is false.
    if (next !== 'i' && next !== 's') {
      reader.fail(
        reader.atEnd()
          ? 'the data ends too early'
          : (refusal(next, 'a key') ?? 'array keys must be integers or strings'),
      );
    }
    const key = reader.readScalar('a key') as number | string;
    pairs.push([phpKey(key), reader.readScalar('a value')]);
  }
  if (!reader.atEnd() && reader.peekKind() !== '}') {
    reader.fail(`the array declares ${count} entries but holds more`);
  }
  reader.expect('}');
  if (!reader.atEnd()) reader.fail('unexpected data after the array');
  return pairs;
}

/** PHP casts canonical integer strings to integer keys: `s:1:"1"` and `i:1` are one key. */
function phpKey(key: number | string): number | string {
  const isCanonicalInt = typeof key === 'string' && /^(0|-?[1-9]\d*)$/.test(key);
  return isCanonicalInt && Number.isSafeInteger(Number(key)) ? Number(key) : key;
}

function refusal(kind: string, where: string): string | undefined {
  switch (kind) {
    case 'O':
    case 'C':
      return `objects are not accepted (found one at ${where})`;
    case 'E':
      return `enums are not accepted (found one at ${where})`;
    case 'r':
    case 'R':
      return `references are not accepted (found one at ${where})`;
    case 'a':
      return `nested arrays are not accepted (found one at ${where})`;
    default:
      return undefined;
  }
}

class Reader {
  private pos = 0;
  constructor(private readonly bytes: Buffer) {}

  atEnd(): boolean {
    return this.pos === this.bytes.length;
  }

  peekKind(): string {
    return String.fromCharCode(this.bytes[this.pos] ?? 0);
  }

  fail(reason: string): never {
    throw apiError(
      'invalid_parameter',
      'customfields',
      `not a valid PHP serialized array: ${reason} (at byte ${this.pos})`,
    );
  }

  expect(text: string): void {
    for (let i = 0; i < text.length; i++) {
      if (this.bytes[this.pos + i] !== text.charCodeAt(i)) {
        this.fail(
          this.pos + i >= this.bytes.length ? 'the data ends too early' : `expected "${text}"`,
        );
      }
    }
    this.pos += text.length;
  }

  /** Digits (with an optional minus) up to `end`, which is consumed. */
  readInt(end: string): number {
    const text = this.readUntil(end);
    if (!/^-?\d+$/.test(text)) this.fail(`"${text.slice(0, 20)}" is not an integer`);
    if (!Number.isSafeInteger(Number(text))) {
      this.fail(`"${text.slice(0, 20)}" is outside ±2^53, the integers this server accepts`);
    }
    return Number(text);
  }

  readScalar(what: string): PhpScalar {
    const kind = this.peekKind();
    switch (kind) {
      case 'N':
        this.expect('N;');
        return null;
      case 'b': {
        this.expect('b:');
        const value = this.readUntil(';');
        if (value !== '0' && value !== '1') this.fail('a boolean must be b:0 or b:1');
        return value === '1';
      }
      case 'i':
        this.expect('i:');
        return this.readInt(';');
      case 'd': {
        this.expect('d:');
        const text = this.readUntil(';');
        const value = Number(text);
        if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text) || !Number.isFinite(value))
          this.fail(`"${text.slice(0, 20)}" is not a float`);
        return value;
      }
      case 's': {
        this.expect('s:');
        const length = this.readInt(':');
        if (length < 0 || length > this.bytes.length - this.pos - 3)
          this.fail(`a string claims ${length} bytes but the data is shorter`);
        this.expect('"');
        const raw = this.bytes.subarray(this.pos, this.pos + length);
        this.pos += length;
        // A length that is off (characters counted instead of UTF-8 bytes) lands here.
        if (this.bytes[this.pos] !== 0x22)
          this.fail(
            `a string's declared length ${length} does not match its bytes (s:N counts UTF-8 bytes)`,
          );
        this.expect('";');
        const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
        try {
          return text.decode(raw);
        } catch {
          return this.fail('a string is not valid UTF-8');
        }
      }
      default:
        return this.fail(
          refusal(kind, what) ??
            (this.atEnd() ? 'the data ends too early' : `unknown type "${kind}"`),
        );
    }
  }

  private readUntil(end: string): string {
    const at = this.bytes.indexOf(end.charCodeAt(0), this.pos);
    // Tokens are short; a missing terminator within 32 bytes is garbage, not a long number.
    if (at === -1 || at - this.pos > 32)
      this.fail(at === -1 ? 'the data ends too early' : `expected "${end}"`);
    const text = this.bytes.toString('latin1', this.pos, at);
    this.pos = at + 1;
    return text;
  }
}
