import fc from 'fast-check';
import { serialize } from 'php-serialize';
import { describe, it, expect } from 'vitest';
import type { ApiError } from './errors.ts';
import { PHP_SERIALIZED_FIXTURES } from './fixtures/php-serialized.fixtures.ts';
import { parsePhpSerializedArray, type PhpScalar } from './parse-php-serialized.ts';
import { apiErrorFrom } from './test-helpers.ts';

type Pair = [number | string, PhpScalar];

/** The UTF-8 bytes of serialized text, as they arrive after base64 decoding. */
function bytes(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** The ApiError parsing `input` throws; fails the test if it throws nothing or something else. */
function refusal(input: string | Buffer): ApiError {
  return apiErrorFrom(() =>
    parsePhpSerializedArray(typeof input === 'string' ? bytes(input) : input),
  );
}

/** Asserts the refusal every hostile input gets: a 400 naming `customfields` and `problem`. */
function expectRefused(input: string | Buffer, problem: string | RegExp): void {
  const error = refusal(input);
  expect(error.code).toBe('invalid_parameter');
  expect(error.status).toBe(400);
  expect(error.message).toMatch(/^Invalid customfields: not a valid PHP serialized array: /);
  expect(error.message).toMatch(problem);
}

describe('parsePhpSerializedArray on real PHP 8.2 output', () => {
  it.each(PHP_SERIALIZED_FIXTURES)('decodes $name to exactly the pairs PHP sees', (fixture) => {
    expect(parsePhpSerializedArray(Buffer.from(fixture.base64, 'base64'))).toEqual(fixture.pairs);
  });
});

describe('parsePhpSerializedArray refuses object injection', () => {
  it.each([
    ['an object at the top level', 'O:8:"stdClass":0:{}', 'the top level'],
    ['an object as an array value', 'a:1:{i:0;O:8:"stdClass":0:{}}', 'a value'],
    ['an object as an array key', 'a:1:{O:8:"stdClass":0:{}s:1:"x";}', 'a key'],
    [
      'a Monolog gadget chain (phpggc Monolog/RCE1 shape)',
      'a:1:{i:0;O:32:"Monolog\\Handler\\SyslogUdpHandler":1:{s:9:"\0*\0socket";' +
        'O:29:"Monolog\\Handler\\BufferHandler":1:{s:10:"\0*\0handler";N;}}}',
      'a value',
    ],
    [
      'a custom-serialized (C:) object at the top level',
      'C:11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}}',
      'the top level',
    ],
    [
      'a custom-serialized (C:) object as a value',
      'a:1:{i:0;C:11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}}}',
      'a value',
    ],
  ])('refuses %s', (_name, input, where) => {
    expectRefused(input, `objects are not accepted (found one at ${where})`);
  });

  it.each([
    ['at the top level', 'E:7:"Foo:Bar";'],
    ['as a value', 'a:1:{i:0;E:7:"Foo:Bar";}'],
  ])('refuses an enum %s', (_where, input) => {
    expectRefused(input, 'enums are not accepted');
  });

  it.each([
    ['a value reference (r:)', 'a:2:{i:0;s:1:"x";i:1;r:2;}'],
    ['a variable reference (R:)', 'a:2:{i:0;s:1:"x";i:1;R:2;}'],
    ['a reference at the top level', 'R:1;'],
  ])('refuses %s', (_name, input) => {
    expectRefused(input, 'references are not accepted');
  });

  it('refuses an array nested in an array', () => {
    expectRefused('a:1:{i:0;a:0:{}}', 'nested arrays are not accepted (found one at a value)');
  });
});

describe('parsePhpSerializedArray checks declared string lengths against UTF-8 bytes', () => {
  it('refuses s:1:"é", whose length counts characters where PHP counts two bytes', () => {
    expectRefused('a:1:{i:0;s:1:"é";}', 'declared length 1 does not match its bytes');
  });

  it('accepts s:2:"é", the length PHP writes for it', () => {
    expect(parsePhpSerializedArray(bytes('a:1:{i:0;s:2:"é";}'))).toEqual([[0, 'é']]);
  });

  it('refuses a declared length shorter than the string', () => {
    expectRefused('a:1:{i:0;s:2:"abc";}', 'declared length 2 does not match its bytes');
  });

  it('refuses a declared length longer than the string, mid-array', () => {
    expectRefused('a:2:{i:0;s:5:"abc";i:1;s:1:"x";}', 'declared length 5 does not match its bytes');
  });

  it('refuses a declared length that runs past the end of the data', () => {
    expectRefused('a:1:{i:0;s:9:"abc";}', 'a string claims 9 bytes but the data is shorter');
  });

  // Refused from the arithmetic on the declared length alone, before a byte is copied; how fast
  // that is belongs in `npm run bench`, not in a timed unit test.
  it('refuses s:999999999 against a few bytes of data without reading that far', () => {
    expectRefused(
      'a:1:{i:0;s:999999999:"x";}',
      'a string claims 999999999 bytes but the data is shorter',
    );
  });

  it('refuses a declared length beyond what an integer can hold', () => {
    expectRefused('a:1:{i:0;s:99999999999999999999:"x";}', /is outside ±2\^53/);
  });
});

describe('parsePhpSerializedArray refuses truncated input', () => {
  const whole = 'a:1:{i:0;s:1:"x";}';
  it.each([
    'a:1:{i:0;s:1:"x";',
    'a:1:{i:0;s:1:"x"',
    'a:1:{i:0;s:1:"',
    'a:1:{i:0;s:1:',
    'a:1:{i:0;s:1',
    'a:1:{i:0;',
    'a:1:{i:0',
    'a:1:{i:',
    'a:1:{',
    'a:1:',
    'a:1',
    'a:',
    'a',
  ])('refuses %j, a prefix of a:1:{i:0;s:1:"x";}', (input) => {
    expect(whole.startsWith(input)).toBe(true);
    expectRefused(input, /the data ends too early|the data is shorter/);
  });

  it('refuses empty input', () => {
    expectRefused('', 'expected a serialized array');
  });
});

describe('parsePhpSerializedArray refuses malformed structure', () => {
  it.each([
    ['a letter', 'a:0:{}x'],
    ['a second terminator', 'a:0:{};'],
    ['a second array', 'a:0:{}a:0:{}'],
  ])('refuses trailing garbage after the closing brace: %s', (_name, input) => {
    expectRefused(input, 'unexpected data after the array');
  });

  it('refuses a huge declared entry count before looking for the entries', () => {
    expectRefused('a:99999999:{}', 'more than 1000 entries');
  });

  // PHP 8.2: unserialize('a:-1:{}') === false; the count is unsigned in PHP's grammar.
  it('refuses a negative declared entry count', () => {
    expectRefused('a:-1:{}', /count/);
  });

  it('refuses more pairs than the declared count', () => {
    expectRefused('a:1:{i:0;s:1:"x";i:1;s:1:"y";}', /declares 1 entr/);
  });

  it('refuses fewer pairs than the declared count', () => {
    expectRefused('a:2:{i:0;s:1:"x";}', /declares 2 entr/);
  });

  it.each([
    ['a lone 0xFF byte in a value', Buffer.from('a:1:{i:0;s:1:"\xff";}', 'latin1')],
    ['a lone 0xFF byte in a key', Buffer.from('a:1:{s:1:"\xff";i:0;}', 'latin1')],
    ['an overlong encoding of "/"', Buffer.from('a:1:{i:0;s:2:"\xc0\xaf";}', 'latin1')],
    ['a UTF-16 surrogate encoded as UTF-8', Buffer.from('a:1:{i:0;s:3:"\xed\xa0\x80";}', 'latin1')],
    ['a truncated multibyte sequence', Buffer.from('a:1:{i:0;s:2:"\xe2\x82";}', 'latin1')],
  ])('refuses invalid UTF-8: %s', (_name, input) => {
    expectRefused(input, 'a string is not valid UTF-8');
  });

  it.each(['abc', '1.5.5', '', '0x1A', '1e999', 'INF', 'NAN'])(
    'refuses d:%s; as not a float',
    (text) => {
      expectRefused(`a:1:{i:0;d:${text};}`, `"${text}" is not a float`);
    },
  );

  it.each(['2', '', 'true', '01'])('refuses b:%s; as not a boolean', (text) => {
    expectRefused(`a:1:{i:0;b:${text};}`, 'a boolean must be b:0 or b:1');
  });

  it.each([
    ['a value of 2^53 + 1', 'a:1:{i:0;i:9007199254740993;}', '9007199254740993'],
    ['a value of 2^53', 'a:1:{i:0;i:9007199254740992;}', '9007199254740992'],
    ['a value of -2^53', 'a:1:{i:0;i:-9007199254740992;}', '-9007199254740992'],
    ['a key of 2^53 + 1', 'a:1:{i:9007199254740993;s:1:"x";}', '9007199254740993'],
    ['a value of PHP_INT_MAX', 'a:1:{i:0;i:9223372036854775807;}', '9223372036854775807'],
  ])('refuses integers beyond 2^53: %s', (_name, input, digits) => {
    expectRefused(input, `"${digits}" is outside ±2^53`);
  });

  it('keeps integers up to 2^53 - 1 exact', () => {
    expect(
      parsePhpSerializedArray(bytes('a:2:{i:0;i:9007199254740991;i:1;i:-9007199254740991;}')),
    ).toEqual([
      [0, 9007199254740991],
      [1, -9007199254740991],
    ]);
  });

  it.each([
    ['a string', 's:1:"x";'],
    ['an integer', 'i:1;'],
    ['null', 'N;'],
    ['a boolean', 'b:1;'],
    ['a float', 'd:1.5;'],
  ])('refuses %s at the top level', (_name, input) => {
    expectRefused(input, 'expected a serialized array (a:N:{…})');
  });

  it.each([
    ['a boolean', 'a:1:{b:1;s:1:"x";}'],
    ['null', 'a:1:{N;s:1:"x";}'],
    // PHP 8.2: unserialize('a:1:{d:1.5;s:1:"x";}') === false.
    ['a float', 'a:1:{d:1.5;s:1:"x";}'],
  ])('refuses %s as an array key, as PHP does', (_name, input) => {
    expectRefused(input, 'array keys must be integers or strings');
  });
});

describe('parsePhpSerializedArray casts keys as PHP does', () => {
  it('turns the key s:1:"1" into the integer 1', () => {
    expect(parsePhpSerializedArray(bytes('a:1:{s:1:"1";s:1:"x";}'))).toEqual([[1, 'x']]);
  });

  it('keeps the key s:2:"01" as the string "01"', () => {
    expect(parsePhpSerializedArray(bytes('a:1:{s:2:"01";s:1:"x";}'))).toEqual([['01', 'x']]);
  });

  it('turns s:2:"-5" into -5 but keeps "-0", "+5" and "1.0" as strings', () => {
    expect(
      parsePhpSerializedArray(
        bytes('a:4:{s:2:"-5";s:1:"a";s:2:"-0";s:1:"b";s:2:"+5";s:1:"c";s:3:"1.0";s:1:"d";}'),
      ),
    ).toEqual([
      [-5, 'a'],
      ['-0', 'b'],
      ['+5', 'c'],
      ['1.0', 'd'],
    ]);
  });
});

describe('parsePhpSerializedArray against prototype pollution', () => {
  it.each(['__proto__', 'constructor', 'prototype'])(
    'returns the key %s as a plain string in the pair list',
    (key) => {
      const input = `a:1:{s:${key.length}:"${key}";s:1:"x";}`;
      const pairs = parsePhpSerializedArray(bytes(input));
      expect(pairs).toEqual([[key, 'x']]);
      expect(Array.isArray(pairs[0])).toBe(true);
      expect(Object.getPrototypeOf(pairs[0])).toBe(Array.prototype);
    },
  );

  it('leaves Object.prototype untouched by a __proto__ key holding an array', () => {
    expectRefused(
      'a:1:{s:9:"__proto__";a:1:{s:8:"polluted";b:1;}}',
      'nested arrays are not accepted',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('leaves Object.prototype untouched by constructor.prototype keys', () => {
    expectRefused(
      'a:1:{s:11:"constructor";a:1:{s:9:"prototype";a:1:{s:8:"polluted";b:1;}}}',
      'nested arrays are not accepted',
    );
    const pairs = parsePhpSerializedArray(
      bytes('a:3:{s:9:"__proto__";s:1:"x";s:11:"constructor";s:1:"y";s:9:"prototype";s:1:"z";}'),
    );
    expect(pairs).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
      ['prototype', 'z'],
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});

/** The key PHP's array would hold: decimal integer strings become integers (here: safe ones). */
function phpKey(key: number | string): number | string {
  if (typeof key === 'number') return key;
  // PHP casts up to PHP_INT_MAX; the decoder keeps the cast to 2^53 so the number stays exact.
  return /^(0|-?[1-9]\d*)$/.test(key) && Number.isSafeInteger(Number(key)) ? Number(key) : key;
}

describe('parsePhpSerializedArray against php-serialize', () => {
  // php-serialize 5.1.3 writes s:N with Buffer.byteLength(…, 'utf8'), i.e. UTF-8 bytes as PHP
  // does, and serializes a Map's entries in insertion order with each key typed as in JS: the
  // string "12" becomes s:2:"12" where PHP would write i:12. A Map is the input because a plain
  // object would reorder integer-like keys ahead of the others.
  const key = fc.oneof(
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map(String),
    fc.constantFrom('01', '-0', '+5', '1.0', '__proto__', 'constructor', 'prototype'),
    fc.string({ unit: 'grapheme' }),
  );
  const value = fc.oneof(
    fc.string({ unit: 'grapheme' }),
    fc.maxSafeInteger(),
    fc.boolean(),
    fc.constant(null),
  );
  // Unique by Map identity, so the Map keeps every generated entry and its order.
  const entries = fc.uniqueArray(fc.tuple(key, value), {
    selector: ([k]) => k,
    comparator: 'SameValueZero',
    maxLength: 20,
  });

  it('returns the pairs php-serialize encoded, numeric-string keys cast to integers', () => {
    fc.assert(
      fc.property(entries, (list) => {
        const expected: Pair[] = list.map(([k, v]) => [phpKey(k), v]);
        // As php-serialize writes it ("12" as s:2:"12") and as PHP writes it (i:12): same pairs.
        // The PHP form is joined by hand: a Map of the cast keys would merge 12 with "12".
        const asJs = serialize(new Map<number | string, PhpScalar>(list));
        const asPhp = `a:${expected.length}:{${expected.map(([k, v]) => serialize(k) + serialize(v)).join('')}}`;
        expect(parsePhpSerializedArray(bytes(asJs))).toEqual(expected);
        expect(parsePhpSerializedArray(bytes(asPhp))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('has php-serialize count UTF-8 bytes for s:N, as PHP does', () => {
    expect(serialize('é')).toBe('s:2:"é";');
    expect(serialize(new Map([['日本', '🎉']]))).toBe('a:1:{s:6:"日本";s:4:"🎉";}');
  });
});
