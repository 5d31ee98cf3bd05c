import { describe, it, expect } from 'vitest';
import { ApiError } from './errors.ts';
import { isEmptyList, toFormValue, type FormValue } from './form-value.ts';

/** `levels` arrays nested inside each other around one string. */
function nestedArrays(levels: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i += 1) value = [value];
  return value;
}

describe('toFormValue', () => {
  it('keeps strings, numbers, booleans and null as they are', () => {
    expect(toFormValue('text')).toBe('text');
    expect(toFormValue('')).toBe('');
    expect(toFormValue(42)).toBe(42);
    expect(toFormValue(1.5)).toBe(1.5);
    expect(toFormValue(true)).toBe(true);
    expect(toFormValue(false)).toBe(false);
    expect(toFormValue(null)).toBeNull();
  });

  it('turns objects into Maps, recursively, keeping key order', () => {
    const value = toFormValue(
      JSON.parse('{"ticketid":"42","customfields":{"1":"Google","2":7},"markdown":true}'),
    );
    expect(value).toEqual(
      new Map<string, FormValue>([
        ['ticketid', '42'],
        [
          'customfields',
          new Map<string, FormValue>([
            ['1', 'Google'],
            ['2', 7],
          ]),
        ],
        ['markdown', true],
      ]),
    );
    expect([...(value as Map<string, FormValue>).keys()]).toEqual([
      'ticketid',
      'customfields',
      'markdown',
    ]);
  });

  it('turns arrays of objects into arrays of Maps', () => {
    expect(toFormValue(JSON.parse('[{"name":"a.txt","data":"aGk="}]'))).toEqual([
      new Map([
        ['name', 'a.txt'],
        ['data', 'aGk='],
      ]),
    ]);
  });

  it('reads null-prototype objects, as the form parser and multer build them', () => {
    const body = Object.create(null) as Record<string, unknown>;
    body.message = 'hi';
    body.attachments = Object.assign(Object.create(null) as object, { 0: 'x' });
    expect(toFormValue(body)).toEqual(
      new Map<string, FormValue>([
        ['message', 'hi'],
        ['attachments', new Map([['0', 'x']])],
      ]),
    );
  });

  describe('prototype pollution', () => {
    it('keeps a JSON "__proto__" key as an ordinary Map key and leaves Object.prototype untouched', () => {
      const value = toFormValue(JSON.parse('{"__proto__":{"admin":true}}'));
      expect(value).toBeInstanceOf(Map);
      const map = value as Map<string, FormValue>;
      expect([...map.keys()]).toEqual(['__proto__']);
      expect(map.get('__proto__')).toEqual(new Map([['admin', true]]));
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('admin');
    });

    it('keeps "constructor" and "prototype" keys as plain data', () => {
      const value = toFormValue(
        JSON.parse('{"constructor":{"prototype":{"polluted":1}},"toString":"x"}'),
      ) as Map<string, FormValue>;
      expect(value.get('constructor')).toEqual(
        new Map([['prototype', new Map([['polluted', 1]])]]),
      );
      expect(value.get('toString')).toBe('x');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('does not pick up inherited properties of the input', () => {
      const input = Object.create({ inherited: 'no' }) as Record<string, unknown>;
      input.own = 'yes';
      expect(toFormValue(input)).toEqual(new Map([['own', 'yes']]));
    });
  });

  it('keeps the keys of a sparse array (PHP `customfields[7]=x`) instead of expanding it', () => {
    const sparse: unknown[] = [];
    sparse[3] = 'a';
    sparse[99_999_999] = 'b';
    expect(toFormValue(sparse)).toEqual(
      new Map([
        ['3', 'a'],
        ['99999999', 'b'],
      ]),
    );
  });

  it('reads only the items present in a sparse array, not every hole up to its length', () => {
    // A 30-byte `attachments[4294967294]=x` must not buy minutes of CPU: count index reads.
    const sparse: unknown[] = [];
    sparse[10] = 'a';
    sparse[1_000_000] = 'b';
    let indexReads = 0;
    const watched = new Proxy(sparse, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) indexReads += 1;
        return Reflect.get(target, key, receiver) as unknown;
      },
      has(target, key) {
        if (typeof key === 'string' && /^\d+$/.test(key)) indexReads += 1;
        return Reflect.has(target, key);
      },
    });
    expect(toFormValue(watched)).toEqual(
      new Map([
        ['10', 'a'],
        ['1000000', 'b'],
      ]),
    );
    expect(indexReads).toBeLessThanOrEqual(4);
  });

  it('keeps explicit nulls in arrays, which are values rather than holes', () => {
    expect(toFormValue([null, 'a', null])).toEqual([null, 'a', null]);
  });

  it('accepts nesting 32 levels deep', () => {
    expect(toFormValue(nestedArrays(32))).toEqual(nestedArrays(32));
  });

  it('refuses nesting deeper than 32 levels with a 400, bounding recursion on hostile JSON', () => {
    let error: unknown;
    try {
      toFormValue(nestedArrays(33));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      code: 'malformed_body',
      status: 400,
      message: 'Malformed request body: nested deeper than 32 levels',
    });
  });

  it('refuses deep nesting of objects just like arrays', () => {
    const deep = JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) as unknown;
    expect(() => toFormValue(deep)).toThrow('nested deeper than 32 levels');
  });

  it('refuses a hostile 100 000-level document without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(() => toFormValue(deep)).toThrow(ApiError);
  });

  it.each([
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('x')],
    ['a bigint', 1n],
  ])('refuses %s, which no body parser produces', (_, value) => {
    expect(() => toFormValue(value)).toThrow(ApiError);
  });
});

describe('isEmptyList', () => {
  it.each<[string, FormValue | undefined]>([
    ['""', ''],
    ['"[]"', '[]'],
    ['"W10=" (base64 of [])', 'W10='],
    ['" [] " with whitespace', ' [] '],
    ['[]', []],
    ['an empty Map ({} in JSON)', new Map()],
    ['null', null],
    ['a missing field', undefined],
  ])('treats %s as none', (_, value) => {
    expect(isEmptyList(value)).toBe(true);
  });

  it.each<[string, FormValue]>([
    ['"x"', 'x'],
    ['"{}" as text', '{}'],
    ['"W10" without padding', 'W10'],
    ['a base64 list with one item', 'WyJhIl0='],
    ['a list with one item', ['a']],
    ['a list holding an empty string', ['']],
    ['a Map with one key', new Map([['1', 'Google']])],
    ['false', false],
    ['0', 0],
  ])('treats %s as something', (_, value) => {
    expect(isEmptyList(value)).toBe(false);
  });
});
