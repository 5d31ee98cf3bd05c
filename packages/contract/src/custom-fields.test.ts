import { describe, it, expect } from 'vitest';
import {
  MAX_CUSTOM_FIELD_BYTES,
  readCustomFields,
  resolveCustomFields,
  type CustomFieldDefinition,
  type CustomFieldInput,
} from './custom-fields.ts';
import type { FormValue } from './form-value.ts';
import { apiErrorFrom, expectApiError } from './test-helpers.ts';

/** Asserts `customfields` is refused as an invalid parameter whose message matches `problem`. */
function expectReadRefused(value: FormValue, problem: string | RegExp): void {
  const error = apiErrorFrom(() => readCustomFields(value));
  expect(error.code).toBe('invalid_parameter');
  expect(error.status).toBe(400);
  expect(error.message).toMatch(/^Invalid customfields: /);
  expect(error.message).toMatch(problem);
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** PHP's chunk_split(base64_encode(…)): lines of 76 characters, each ended by CRLF. */
function chunkSplit(encoded: string): string {
  return `${encoded.match(/.{1,76}/g)!.join('\r\n')}\r\n`;
}

describe('readCustomFields', () => {
  it('reads base64 of the PHP sample in API.md as field 1 = "Google"', () => {
    expect(readCustomFields('YToxOntpOjE7czo2OiJHb29nbGUiO30=')).toEqual([
      { field: 1, value: 'Google' },
    ]);
  });

  it('reads base64 of PHP arrays keyed by field name', () => {
    // PHP 8.2: base64_encode(serialize(['Referrer' => 'Newsletter', 'Plan' => 'Starter']))
    expect(
      readCustomFields(
        'YToyOntzOjg6IlJlZmVycmVyIjtzOjEwOiJOZXdzbGV0dGVyIjtzOjQ6IlBsYW4iO3M6NzoiU3RhcnRlciI7fQ==',
      ),
    ).toEqual([
      { field: 'Referrer', value: 'Newsletter' },
      { field: 'Plan', value: 'Starter' },
    ]);
  });

  it('reads base64 of a JSON object', () => {
    expect(readCustomFields(base64('{"1":"Google","Plan":"Business"}'))).toEqual([
      { field: 1, value: 'Google' },
      { field: 'Plan', value: 'Business' },
    ]);
  });

  it('reads raw JSON object text, surrounding whitespace included', () => {
    expect(readCustomFields(' {"1":"Google","Plan":"Business"}\n')).toEqual([
      { field: 1, value: 'Google' },
      { field: 'Plan', value: 'Business' },
    ]);
  });

  it('reads a Map, as JSON bodies and PHP form arrays (customfields[1]=Google) arrive', () => {
    expect(
      readCustomFields(
        new Map<string, FormValue>([
          ['1', 'Google'],
          ['Plan', 'Business'],
        ]),
      ),
    ).toEqual([
      { field: 1, value: 'Google' },
      { field: 'Plan', value: 'Business' },
    ]);
  });

  it.each<[string, FormValue | undefined]>([
    ['an empty string', ''],
    ['a blank string', ' '],
    ['"[]"', '[]'],
    ['"W10=" (base64 of [])', 'W10='],
    ['"{}"', '{}'],
    ['"e30=" (base64 of {})', base64('{}')],
    ['base64 of a:0:{}', base64('a:0:{}')],
    ['an empty Map', new Map()],
    ['an empty list', []],
    ['null', null],
    ['undefined (no field at all)', undefined],
  ])('reads %s as no custom fields', (_name, value) => {
    expect(readCustomFields(value)).toEqual([]);
  });

  it('reads URL-safe base64, unpadded as PHP rtrim(strtr(…)) leaves it', () => {
    // serialize([1 => 'ÿÿÿ']) is YToxOntpOjE7czo2OiLDv8O/w78iO30= in the standard alphabet.
    expect(readCustomFields('YToxOntpOjE7czo2OiLDv8O_w78iO30')).toEqual([
      { field: 1, value: 'ÿÿÿ' },
    ]);
  });

  it('reads base64 broken into CRLF lines, as PHP chunk_split makes it', () => {
    const sent = chunkSplit(
      'YToyOntpOjE7czoxMTA6IlJlZmVycmVkIGJ5IGEgZnJpZW5kLiBSZWZlcnJlZCBieSBhIGZyaWVuZC4gUmVmZXJyZWQg' +
        'YnkgYSBmcmllbmQuIFJlZmVycmVkIGJ5IGEgZnJpZW5kLiBSZWZlcnJlZCBieSBhIGZyaWVuZC4gIjtzOjQ6IlBsYW4i' +
        'O3M6ODoiQnVzaW5lc3MiO30=',
    );
    expect(sent).toContain('\r\n');
    expect(readCustomFields(sent)).toEqual([
      { field: 1, value: 'Referred by a friend. '.repeat(5) },
      { field: 'Plan', value: 'Business' },
    ]);
  });

  it('stringifies numbers from PHP, JSON and form Maps', () => {
    expect(readCustomFields(base64('a:2:{i:1;i:42;i:2;d:1.5;}'))).toEqual([
      { field: 1, value: '42' },
      { field: 2, value: '1.5' },
    ]);
    expect(readCustomFields('{"1":42,"2":1.5,"3":-7}')).toEqual([
      { field: 1, value: '42' },
      { field: 2, value: '1.5' },
      { field: 3, value: '-7' },
    ]);
    expect(readCustomFields(new Map<string, FormValue>([['1', 42]]))).toEqual([
      { field: 1, value: '42' },
    ]);
  });

  it('reads PHP true as "on" (a ticked tickbox) and false and null as ""', () => {
    // PHP 8.2: base64_encode(serialize([3 => true, 4 => false, 5 => null]))
    expect(readCustomFields('YTozOntpOjM7YjoxO2k6NDtiOjA7aTo1O047fQ==')).toEqual([
      { field: 3, value: 'on' },
      { field: 4, value: '' },
      { field: 5, value: '' },
    ]);
  });

  it('reads JSON true as "on" and JSON false and null as ""', () => {
    expect(readCustomFields('{"3":true,"4":false,"5":null}')).toEqual([
      { field: 3, value: 'on' },
      { field: 4, value: '' },
      { field: 5, value: '' },
    ]);
  });

  it('keeps keys that are not plain field ids as names', () => {
    expect(readCustomFields('{"0":"a","01":"b","-1":"c","1.5":"d"}')).toEqual([
      { field: '0', value: 'a' },
      { field: '01', value: 'b' },
      { field: '-1', value: 'c' },
      { field: '1.5', value: 'd' },
    ]);
  });

  it.each<[string, FormValue]>([
    ['a list in a Map', new Map<string, FormValue>([['1', ['a', 'b']]])],
    ['a Map in a Map', new Map<string, FormValue>([['1', new Map([['x', 'y']])]])],
    ['a JSON array value', '{"1":["a","b"]}'],
    ['a JSON object value', '{"1":{"x":"y"}}'],
  ])('refuses nested values: %s', (_name, value) => {
    expectReadRefused(value, 'the value of "1" must be a single value, not a list');
  });

  it('refuses a nested PHP array, naming the problem', () => {
    expectReadRefused(base64('a:1:{i:1;a:0:{}}'), 'nested arrays are not accepted');
  });

  it.each(['not base64!', 'YToxOnt%3D', 'A', 'A==='])('refuses %j as invalid base64', (value) => {
    expectReadRefused(value, 'not valid base64 (send base64_encode(serialize($array)))');
  });

  it.each([
    ['raw JSON', '{"1":"Google"'],
    ['base64 of JSON', base64('{"1":"Google"')],
    ['JSON with a trailing comma', '{"1":"Google",}'],
  ])('refuses invalid %s', (_name, value) => {
    expectReadRefused(value, 'not a valid JSON object');
  });

  it('refuses a JSON array sent in a JSON body', () => {
    expectReadRefused(
      ['Google'],
      'send base64 of a PHP serialized array, or an object of field ids or names to values',
    );
  });

  it('refuses a JSON array sent as text or as base64 of text', () => {
    expectReadRefused('["Google"]', /must be an object/);
    expectReadRefused(base64('["Google"]'), /serialized array/);
  });

  it.each<[string, FormValue]>([
    ['a number', 42],
    ['a boolean', true],
  ])('refuses %s in place of the list', (_name, value) => {
    expectReadRefused(value, 'send base64 of a PHP serialized array');
  });

  it('reads __proto__, constructor and prototype keys as names without touching prototypes', () => {
    expect(readCustomFields('{"__proto__":"x","constructor":"y","prototype":"z"}')).toEqual([
      { field: '__proto__', value: 'x' },
      { field: 'constructor', value: 'y' },
      { field: 'prototype', value: 'z' },
    ]);
    expect(
      readCustomFields(
        base64('a:3:{s:9:"__proto__";s:1:"x";s:11:"constructor";s:1:"y";s:9:"prototype";s:1:"z";}'),
      ),
    ).toEqual([
      { field: '__proto__', value: 'x' },
      { field: 'constructor', value: 'y' },
      { field: 'prototype', value: 'z' },
    ]);
    expectReadRefused('{"__proto__":{"polluted":true}}', 'must be a single value');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

const DEFINITIONS: readonly CustomFieldDefinition[] = [
  { id: 1, name: 'Referrer', type: 'text', options: [], regex: null },
  {
    id: 2,
    name: 'Plan',
    type: 'dropdown',
    options: ['Starter', 'Business', 'Enterprise'],
    regex: null,
  },
  { id: 3, name: 'Urgent', type: 'tickbox', options: [], regex: null },
  { id: 4, name: 'Order', type: 'text', options: [], regex: '/^ORD-\\d+$/i' },
];

/** Asserts the input is refused as an invalid custom field with exactly or matching `message`. */
function expectResolveRefused(
  inputs: readonly CustomFieldInput[],
  message: string | RegExp,
  definitions: readonly CustomFieldDefinition[] = DEFINITIONS,
): void {
  expectApiError(() => resolveCustomFields(inputs, definitions), {
    status: 400,
    code: 'invalid_custom_field',
    message,
  });
}

describe('resolveCustomFields', () => {
  it('resolves fields sent by id, keeping their order', () => {
    expect(
      resolveCustomFields(
        [
          { field: 2, value: 'Business' },
          { field: 1, value: 'Google' },
        ],
        DEFINITIONS,
      ),
    ).toEqual([
      { fieldId: 2, value: 'Business' },
      { fieldId: 1, value: 'Google' },
    ]);
  });

  it('resolves fields sent by name to their ids', () => {
    expect(
      resolveCustomFields(
        [
          { field: 'Referrer', value: 'Google' },
          { field: 'Plan', value: 'Starter' },
        ],
        DEFINITIONS,
      ),
    ).toEqual([
      { fieldId: 1, value: 'Google' },
      { fieldId: 2, value: 'Starter' },
    ]);
  });

  it('resolves nothing to nothing', () => {
    expect(resolveCustomFields([], DEFINITIONS)).toEqual([]);
  });

  it("answers an unknown id with API.md's exact message", () => {
    expectResolveRefused(
      [{ field: 7, value: 'x' }],
      "Custom field 7 does not exist for this ticket's department",
    );
  });

  it('answers an unknown name, quoting it', () => {
    expectResolveRefused(
      [{ field: 'Referer', value: 'x' }],
      'Custom field "Referer" does not exist for this ticket\'s department',
    );
  });

  it('matches names exactly, case included', () => {
    expectResolveRefused(
      [{ field: 'plan', value: 'Starter' }],
      'Custom field "plan" does not exist for this ticket\'s department',
    );
  });

  it('refuses a name that several fields of the department share (API.md §5: exactly one)', () => {
    const definitions: CustomFieldDefinition[] = [
      ...DEFINITIONS,
      { id: 5, name: 'Referrer', type: 'text', options: [], regex: null },
    ];
    expectResolveRefused([{ field: 'Referrer', value: 'x' }], /Referrer/, definitions);
  });

  it.each(['__proto__', 'constructor', 'prototype', 'toString'])(
    'answers the name %s as an unknown field',
    (name) => {
      expectResolveRefused(
        [{ field: name, value: 'x' }],
        `Custom field "${name}" does not exist for this ticket's department`,
      );
    },
  );

  it('refuses a dropdown value outside its options, listing them', () => {
    expectResolveRefused(
      [{ field: 2, value: 'Gold' }],
      'Custom field 2 (Plan): "Gold" is not one of Starter, Business, Enterprise',
    );
  });

  it('matches dropdown options exactly, case included', () => {
    expectResolveRefused([{ field: 2, value: 'starter' }], /"starter" is not one of/);
  });

  it('accepts a dropdown option and an empty dropdown', () => {
    expect(
      resolveCustomFields(
        [
          { field: 2, value: 'Enterprise' },
          { field: 'Plan', value: '' },
        ],
        DEFINITIONS,
      ),
    ).toEqual([{ fieldId: 2, value: '' }]);
    expect(resolveCustomFields([{ field: 2, value: 'Enterprise' }], DEFINITIONS)).toEqual([
      { fieldId: 2, value: 'Enterprise' },
    ]);
  });

  it('accepts "on" and "" for a tickbox', () => {
    expect(resolveCustomFields([{ field: 3, value: 'on' }], DEFINITIONS)).toEqual([
      { fieldId: 3, value: 'on' },
    ]);
    expect(resolveCustomFields([{ field: 3, value: '' }], DEFINITIONS)).toEqual([
      { fieldId: 3, value: '' },
    ]);
  });

  it.each(['yes', 'true', '1', 'ON'])('refuses %j for a tickbox', (value) => {
    expectResolveRefused(
      [{ field: 3, value }],
      'Custom field 3 (Urgent): a tickbox takes "on" or an empty value',
    );
  });

  it.each(['ORD-123', 'ord-7'])(
    'accepts %j against the PHP-style pattern /^ORD-\\d+$/i',
    (value) => {
      expect(resolveCustomFields([{ field: 4, value }], DEFINITIONS)).toEqual([
        { fieldId: 4, value },
      ]);
    },
  );

  it.each(['ORD-', 'ORD-12x', 'xORD-12', 'ORD 12'])(
    'refuses %j against the pattern /^ORD-\\d+$/i',
    (value) => {
      expectResolveRefused(
        [{ field: 4, value }],
        "Custom field 4 (Order): the value does not match the field's pattern",
      );
    },
  );

  it('skips the pattern for an empty value', () => {
    expect(resolveCustomFields([{ field: 4, value: '' }], DEFINITIONS)).toEqual([
      { fieldId: 4, value: '' },
    ]);
  });

  it('applies a bare pattern stored without delimiters', () => {
    const definitions: CustomFieldDefinition[] = [
      { id: 6, name: 'Digits', type: 'text', options: [], regex: '^\\d+$' },
    ];
    expect(resolveCustomFields([{ field: 6, value: '123' }], definitions)).toEqual([
      { fieldId: 6, value: '123' },
    ]);
    expectResolveRefused(
      [{ field: 6, value: '12a' }],
      "Custom field 6 (Digits): the value does not match the field's pattern",
      definitions,
    );
  });

  it.each(['/[unclosed/', '(unbalanced', '/a{2,1}/'])(
    'refuses values for a field whose stored pattern %j is invalid, telling to ask an administrator',
    (regex) => {
      const definitions: CustomFieldDefinition[] = [
        { id: 6, name: 'Broken', type: 'text', options: [], regex },
      ];
      expectResolveRefused(
        [{ field: 6, value: 'anything' }],
        'Custom field 6 (Broken): its validation pattern is invalid; ask an administrator to fix it',
        definitions,
      );
    },
  );

  it('accepts a value of exactly 64 KiB of multibyte UTF-8', () => {
    const value = 'é'.repeat(MAX_CUSTOM_FIELD_BYTES / 2);
    expect(Buffer.byteLength(value)).toBe(64 * 1024);
    expect(resolveCustomFields([{ field: 1, value }], DEFINITIONS)).toEqual([
      { fieldId: 1, value },
    ]);
  });

  it('refuses a value of 64 KiB + 1 byte, counting UTF-8 bytes rather than characters', () => {
    const value = `${'é'.repeat(MAX_CUSTOM_FIELD_BYTES / 2)}a`;
    expect(Buffer.byteLength(value)).toBe(64 * 1024 + 1);
    expect(value.length).toBeLessThan(64 * 1024);
    expectResolveRefused(
      [{ field: 1, value }],
      'Custom field 1 (Referrer): the value exceeds 64 KiB',
    );
  });

  it('keeps one entry, the last, when a field is sent by id and again by name', () => {
    expect(
      resolveCustomFields(
        [
          { field: 1, value: 'first' },
          { field: 2, value: 'Starter' },
          { field: 'Referrer', value: 'last' },
        ],
        DEFINITIONS,
      ),
    ).toEqual([
      { fieldId: 1, value: 'last' },
      { fieldId: 2, value: 'Starter' },
    ]);
  });

  it('reads and resolves the API.md sample end to end', () => {
    expect(
      resolveCustomFields(readCustomFields('YToxOntpOjE7czo2OiJHb29nbGUiO30='), DEFINITIONS),
    ).toEqual([{ fieldId: 1, value: 'Google' }]);
  });
});
