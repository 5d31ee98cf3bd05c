import { describe, expect, it } from 'vitest';
import { ApiError, type FormMap, type FormValue } from '@ticketflow/contract';
import { MAX_FORM_FIELDS, parseForm } from './parse-form.ts';

/** The error parseForm throws for `text`, or undefined when it parses. */
function errorOf(text: string): unknown {
  try {
    parseForm(text);
    return undefined;
  } catch (error) {
    return error;
  }
}

/**
 * A PHP array's key → value pairs, whether the parser hands it over as a Map or as a list
 * (a list's keys are its positions).
 */
function phpEntries(value: FormValue | undefined): [string, FormValue][] {
  if (value instanceof Map) return [...(value as FormMap).entries()];
  if (Array.isArray(value)) return value.map((item, i) => [String(i), item]);
  throw new Error(`not a PHP array: ${JSON.stringify(value)}`);
}

describe('parseForm', () => {
  it('reads flat name=value pairs in order', () => {
    const fields = parseForm('ticketid=42&message=hello&markdown=1');
    expect([...fields.entries()]).toEqual([
      ['ticketid', '42'],
      ['message', 'hello'],
      ['markdown', '1'],
    ]);
  });

  it('reads a name without "=" as an empty value and skips empty pairs', () => {
    expect(parseForm('a&&b=&c=1&')).toEqual(
      new Map([
        ['a', ''],
        ['b', ''],
        ['c', '1'],
      ]),
    );
  });

  it('reads an empty body as no fields', () => {
    expect(parseForm('').size).toBe(0);
  });

  describe('decoding', () => {
    it('turns "+" into a space, as application/x-www-form-urlencoded does', () => {
      expect(parseForm('message=hello+big+world').get('message')).toBe('hello big world');
    });

    it('keeps an encoded plus sign (%2B) as "+"', () => {
      expect(parseForm('message=1%2B1%3D2').get('message')).toBe('1+1=2');
    });

    it('percent-decodes names and values as UTF-8', () => {
      const fields = parseForm('mess%61ge=Caf%C3%A9+%E2%82%AC+%F0%9F%98%80%0D%0Aline&x%5By%5D=1');
      expect(fields.get('message')).toBe('Café € 😀\r\nline');
      // An encoded bracket is still a bracket once decoded, as in PHP.
      expect(fields.get('x')).toEqual(new Map([['y', '1']]));
    });

    it('keeps "=" inside a value, splitting only at the first one', () => {
      expect(parseForm('customfields=W10=&created=a=b').get('customfields')).toBe('W10=');
      expect(parseForm('created=a=b').get('created')).toBe('a=b');
    });

    it.each([
      ['a truncated escape', 'message=%E0%A4%A'],
      ['a non-hex escape', 'message=100%zz'],
      ['a lone percent sign', 'message=100%'],
      ['bytes that are not UTF-8', 'message=%C3%28'],
      ['a bad escape in the name', 'mess%ZZage=x'],
    ])('refuses %s with a 400 malformed_body', (_, text) => {
      const error = errorOf(text);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ code: 'malformed_body', status: 400 });
      expect((error as ApiError).message).toMatch(
        /^Malformed request body: invalid percent-encoding/,
      );
    });
  });

  describe('PHP nested names (http_build_query output)', () => {
    it('builds a list of attachment objects from attachments[N][name] and attachments[N][data]', () => {
      const fields = parseForm(
        'attachments%5B0%5D%5Bname%5D=a.txt&attachments%5B0%5D%5Bdata%5D=QQ%3D%3D' +
          '&attachments[1][name]=b.png&attachments[1][data]=Qg==',
      );
      expect(fields.get('attachments')).toEqual([
        new Map([
          ['name', 'a.txt'],
          ['data', 'QQ=='],
        ]),
        new Map([
          ['name', 'b.png'],
          ['data', 'Qg=='],
        ]),
      ]);
    });

    it('keeps the field ids of customfields[1]=…&customfields[7]=…, since the key is the field', () => {
      // API.md §5: the keys of a PHP customfields array are field ids; renumbering them 0, 1
      // would store "Google" in the wrong field.
      const fields = parseForm('customfields%5B1%5D=Google&customfields%5B7%5D=Yes');
      expect(phpEntries(fields.get('customfields'))).toEqual([
        ['1', 'Google'],
        ['7', 'Yes'],
      ]);
    });

    it('reads customfields[name]=value as a keyed map', () => {
      expect(parseForm('customfields[Referrer]=Google').get('customfields')).toEqual(
        new Map([['Referrer', 'Google']]),
      );
    });

    it('appends a[]=x&a[]=y to a list in order', () => {
      expect(parseForm('a[]=x&a[]=y&a[]=').get('a')).toEqual(['x', 'y', '']);
    });

    it('collects a repeated plain name into a list rather than keeping only one value', () => {
      expect(parseForm('message=one&message=two').get('message')).toEqual(['one', 'two']);
    });
  });

  describe('hostile input', () => {
    it('keeps __proto__[admin]=1 as an own key of the fields and leaves Object.prototype untouched', () => {
      const fields = parseForm('__proto__[admin]=1&constructor[prototype][polluted]=1&toString=x');
      expect(fields).toBeInstanceOf(Map);
      expect([...fields.keys()]).toEqual(['__proto__', 'constructor', 'toString']);
      expect(fields.get('__proto__')).toEqual(new Map([['admin', '1']]));
      expect(fields.get('constructor')).toEqual(
        new Map([['prototype', new Map([['polluted', '1']])]]),
      );
      expect(fields.get('toString')).toBe('x');
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('admin');
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('keeps a nested __proto__ inside a list item as data', () => {
      const fields = parseForm('attachments[0][__proto__][isAdmin]=1');
      const [item] = fields.get('attachments') as FormValue[];
      expect(item).toEqual(new Map([['__proto__', new Map([['isAdmin', '1']])]]));
      expect(Object.prototype).not.toHaveProperty('isAdmin');
    });

    it(`accepts exactly ${MAX_FORM_FIELDS} fields`, () => {
      const text = Array.from({ length: MAX_FORM_FIELDS }, (_, i) => `f${i}=1`).join('&');
      expect(parseForm(text).size).toBe(MAX_FORM_FIELDS);
    });

    it(`refuses more than ${MAX_FORM_FIELDS} fields with a 413 payload_too_large`, () => {
      const text = Array.from({ length: MAX_FORM_FIELDS + 1 }, (_, i) => `f${i}=1`).join('&');
      const error = errorOf(text);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({
        code: 'payload_too_large',
        status: 413,
        message: `Field count exceeds the limit of ${MAX_FORM_FIELDS} fields`,
      });
    });

    it('counts a[]=… repetitions of one name as separate fields', () => {
      const text = 'a[]=1&'.repeat(MAX_FORM_FIELDS + 1);
      expect(errorOf(text)).toMatchObject({ code: 'payload_too_large' });
    });

    it('reads a sparse huge index a[99999999]=x as one value without allocating its holes', () => {
      const before = process.memoryUsage().heapUsed;
      const fields: FormMap = parseForm('a[99999999]=x&b=1');
      const grown = process.memoryUsage().heapUsed - before;
      expect(phpEntries(fields.get('a')).map(([, v]) => v)).toEqual(['x']);
      expect(fields.get('b')).toBe('1');
      // A dense array of 10^8 slots would take 800 MB; the parse itself needs a few KB.
      expect(grown).toBeLessThan(16 * 1024 * 1024);
    });
  });
});
