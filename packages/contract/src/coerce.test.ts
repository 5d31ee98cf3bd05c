import { describe, it, expect } from 'vitest';
import {
  isEmail,
  parseCreated,
  readBoolean,
  readPositiveInt,
  readText,
  readTicketNumber,
} from './coerce.ts';
import type { FormValue } from './form-value.ts';
import { apiErrorFrom } from './test-helpers.ts';

describe('readText', () => {
  it('returns strings unchanged, whitespace and all', () => {
    expect(readText('message', '  hello  ')).toBe('  hello  ');
    expect(readText('message', '')).toBe('');
  });

  it('accepts JSON numbers as their decimal text', () => {
    expect(readText('name', 42)).toBe('42');
    expect(readText('name', 1.5)).toBe('1.5');
  });

  it.each<[string, FormValue]>([
    ['a boolean', true],
    ['null', null],
    ['an array', ['a', 'b']],
    ['a map', new Map([['a', 'b']])],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('refuses %s with a 400 naming the field', (_, value) => {
    const error = apiErrorFrom(() => readText('message', value));
    expect(error.code).toBe('invalid_parameter');
    expect(error.status).toBe(400);
    expect(error.message).toBe('Invalid message: send a single text value');
  });
});

describe('readBoolean', () => {
  it.each<FormValue>(['1', 'true', 'on', 'yes', 'TRUE', 'True', 'ON', 'Yes', ' yes ', true, 1])(
    'reads %j as true',
    (value) => {
      expect(readBoolean('markdown', value)).toBe(true);
    },
  );

  it.each<FormValue>(['0', 'false', 'off', 'no', '', 'FALSE', 'Off', 'NO', '  ', false, 0])(
    'reads %j as false',
    (value) => {
      expect(readBoolean('markdown', value)).toBe(false);
    },
  );

  it('refuses "maybe" with the exact API.md message', () => {
    const error = apiErrorFrom(() => readBoolean('markdown', 'maybe'));
    expect(error.message).toBe('Invalid boolean for markdown: "maybe"');
    expect(error.code).toBe('invalid_boolean');
    expect(error.status).toBe(400);
  });

  it('names the field it was given, so noemail errors say noemail', () => {
    expect(apiErrorFrom(() => readBoolean('noemail', 'nope')).message).toBe(
      'Invalid boolean for noemail: "nope"',
    );
  });

  it.each<[FormValue, string]>([
    ['2', 'Invalid boolean for markdown: "2"'],
    ['y', 'Invalid boolean for markdown: "y"'],
    ['truee', 'Invalid boolean for markdown: "truee"'],
    [2, 'Invalid boolean for markdown: "2"'],
    [null, 'Invalid boolean for markdown: "null"'],
    [[], 'Invalid boolean for markdown: "[]"'],
    [['1'], 'Invalid boolean for markdown: "[\\"1\\"]"'],
  ])('refuses %j', (value, message) => {
    expect(apiErrorFrom(() => readBoolean('markdown', value)).message).toBe(message);
  });
});

describe('readPositiveInt', () => {
  it.each<[FormValue, number]>([
    [7, 7],
    ['42', 42],
    [' 42 ', 42],
    ['007', 7],
    [1, 1],
    [2_147_483_647, 2_147_483_647],
    ['2147483647', 2_147_483_647],
  ])('reads %j as %i', (value, expected) => {
    expect(readPositiveInt('ticketid', value)).toBe(expected);
  });

  it.each<FormValue>([
    0,
    '0',
    '1.5',
    1.5,
    '1e3',
    '-1',
    -1,
    'abc',
    '',
    ' ',
    '4 2',
    '0x10',
    [],
    null,
    true,
  ])('refuses %j with a 400 naming the field', (value) => {
    const error = apiErrorFrom(() => readPositiveInt('ticketid', value));
    expect(error.code).toBe('invalid_integer');
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^Invalid ticketid: .* is not a positive whole number$/);
  });

  it('quotes what was sent in the message', () => {
    expect(apiErrorFrom(() => readPositiveInt('clientid', '1e3')).message).toBe(
      'Invalid clientid: "1e3" is not a positive whole number',
    );
    expect(apiErrorFrom(() => readPositiveInt('ticketid', 0)).message).toBe(
      'Invalid ticketid: "0" is not a positive whole number',
    );
  });

  it.each<FormValue>([2_147_483_648, '2147483648', '99999999999999999999', 1e21])(
    'refuses %j as out of range for a PostgreSQL integer id',
    (value) => {
      const error = apiErrorFrom(() => readPositiveInt('ticketid', value));
      expect(error.status).toBe(400);
      expect(error.message).toMatch(
        /^Invalid ticketid: .* is out of range \(at most 2147483647\)$/,
      );
    },
  );
});

describe('readTicketNumber', () => {
  it.each([
    ['ABC-123456', 'ABC-123456'],
    ['123456', '123456'],
    ['  XYZ-1  ', 'XYZ-1'],
    ['a'.repeat(15), 'a'.repeat(15)],
  ])('reads %j as %j', (value, expected) => {
    expect(readTicketNumber(value)).toBe(expected);
  });

  it('accepts a JSON number as its digits', () => {
    expect(readTicketNumber(482913)).toBe('482913');
  });

  it.each(['', '   ', 'a'.repeat(16), 'ABC_123', 'ABC 123', 'ABC/../1', "1' OR '1'='1", 'ÄBC-1'])(
    'refuses %j with the rule it breaks',
    (value) => {
      const error = apiErrorFrom(() => readTicketNumber(value));
      expect(error.status).toBe(400);
      expect(error.message).toBe('Invalid ticketnum: use 1 to 15 letters, digits or dashes');
    },
  );

  it('refuses a list instead of a single value', () => {
    expect(apiErrorFrom(() => readTicketNumber(['ABC-1'])).message).toBe(
      'Invalid ticketnum: send a single text value',
    );
  });
});

describe('isEmail', () => {
  it.each(['user@example.com', 'first.last+tag@mail.example.co.uk', "o'brien@example.ie"])(
    'accepts %s',
    (value) => {
      expect(isEmail(value)).toBe(true);
    },
  );

  it.each([
    '',
    'user',
    'user@',
    '@example.com',
    'user@example',
    'user@@example.com',
    'user @example.com',
    ' user@example.com',
    'user@example.com\n',
    '.user@example.com',
    'us..er@example.com',
    'Name <user@example.com>',
  ])('refuses %j', (value) => {
    expect(isEmail(value)).toBe(false);
  });

  it('refuses an address longer than 255 characters even when its syntax is fine', () => {
    const long = `${'a'.repeat(244)}@example.com`;
    expect(long).toHaveLength(256);
    expect(isEmail(long)).toBe(false);
    expect(isEmail(long.slice(1))).toBe(true);
  });
});

describe('parseCreated', () => {
  it.each([
    ['2026-01-15T10:20:30Z', '2026-01-15T10:20:30.000Z'],
    ['2026-01-15T10:20:30.123Z', '2026-01-15T10:20:30.123Z'],
    ['2026-01-15T10:20:30.123456789Z', '2026-01-15T10:20:30.123Z'],
    ['2026-01-15T10:20:30.5Z', '2026-01-15T10:20:30.500Z'],
    ['2026-01-15t10:20:30z', '2026-01-15T10:20:30.000Z'],
    ['2026-01-15T10:20Z', '2026-01-15T10:20:00.000Z'],
  ])('reads ISO 8601 in UTC: %s', (text, iso) => {
    expect(parseCreated(text)?.toISOString()).toBe(iso);
  });

  it.each([
    ['2026-01-15T10:20:30+02:00', '2026-01-15T08:20:30.000Z'],
    ['2026-01-15T10:20:30-05:30', '2026-01-15T15:50:30.000Z'],
    ['2026-01-15T10:20:30+0530', '2026-01-15T04:50:30.000Z'],
    ['2026-01-15T01:00:00+02:00', '2026-01-14T23:00:00.000Z'],
    ['2026-01-15T10:20:30+00:00', '2026-01-15T10:20:30.000Z'],
  ])('applies the offset of %s', (text, iso) => {
    expect(parseCreated(text)?.toISOString()).toBe(iso);
  });

  it('reads ISO 8601 without an offset as UTC, not as the server time zone', () => {
    expect(parseCreated('2026-07-01T12:00:00')?.toISOString()).toBe('2026-07-01T12:00:00.000Z');
  });

  it('reads the WHMCS `YYYY-MM-DD HH:mm:ss` form as UTC', () => {
    expect(parseCreated('2026-01-15 10:20:30')?.toISOString()).toBe('2026-01-15T10:20:30.000Z');
  });

  it('ignores whitespace around the value', () => {
    expect(parseCreated('  2026-01-15 10:20:30\n')?.toISOString()).toBe('2026-01-15T10:20:30.000Z');
  });

  it('accepts 29 February in a leap year', () => {
    expect(parseCreated('2024-02-29 00:00:00')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it.each([
    '2026-02-30 10:00:00',
    '2025-02-29 10:00:00',
    '2026-04-31T10:00:00Z',
    '2026-13-01 10:00:00',
    '2026-00-10 10:00:00',
    '2026-01-00 10:00:00',
    '2026-01-15 25:00:00',
    '2026-01-15 24:00:00',
    '2026-01-15 10:60:00',
    '2026-01-15 10:00:60',
    '2026-01-15T10:00:00+24:00',
    '2026-01-15T10:00:00+01:60',
  ])('refuses the impossible date %s instead of rolling it over', (text) => {
    expect(parseCreated(text)).toBeUndefined();
  });

  it.each([
    '',
    'garbage',
    'now',
    '1736936430',
    '2026-01-15',
    '15/01/2026 10:20:30',
    '2026-1-5 1:2:3',
    '2026-01-15 10:20',
    '2026-01-15T10:20:30 Z',
    '2026-01-15T10:20:30+2',
    '2026-01-15 10:20:30Z',
    'Thu, 15 Jan 2026 10:20:30 GMT',
  ])('refuses %j, which is neither format', (text) => {
    expect(parseCreated(text)).toBeUndefined();
  });
});
