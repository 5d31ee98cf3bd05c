import { describe, it, expect } from 'vitest';
import type { FormMap, FormValue } from './form-value.ts';
import { readAttachments, type AttachmentLimits } from './read-attachments.ts';
import { expectApiError } from './test-helpers.ts';

/** API.md §3/§6 defaults. */
const LIMITS: AttachmentLimits = {
  count: 10,
  bytes: 10 * 1024 * 1024,
  totalBytes: 25 * 1024 * 1024,
  extensions: ['.jpg', '.gif', '.jpeg', '.png', '.txt', '.pdf'],
};
/** Small limits, so the size cases stay small. */
const SMALL: AttachmentLimits = { ...LIMITS, bytes: 1024, totalBytes: 2048 };

/** Every byte value once, in order. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const PDF = Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n');

const base64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');
const item = (name: string, data: string): FormMap =>
  new Map<string, FormValue>([
    ['name', name],
    ['data', data],
  ]);
/** `n` attachments of `size` bytes each, as a list of Maps (a JSON body). */
const many = (n: number, size = 1) =>
  Array.from({ length: n }, (_, i) => item(`f${i}.txt`, base64(Buffer.alloc(size, 0x61))));

describe('readAttachments: every shape of API.md §6', () => {
  const expected = [
    { name: 'all-bytes.pdf', originalName: 'all-bytes.pdf', data: ALL_BYTES },
    { name: 'résumé 日本.pdf', originalName: 'résumé 日本.pdf', data: PDF },
  ];
  const json = JSON.stringify([
    { name: 'all-bytes.pdf', data: base64(ALL_BYTES) },
    { name: 'résumé 日本.pdf', data: base64(PDF) },
  ]);

  it('reads base64 of a JSON array of {name, data}', () => {
    expect(readAttachments(base64(json), LIMITS)).toEqual(expected);
  });

  it('reads base64 of the JSON array in the URL-safe alphabet, and with line breaks', () => {
    expect(readAttachments(Buffer.from(json).toString('base64url'), LIMITS)).toEqual(expected);
    const wrapped = base64(json).replace(/.{76}/g, '$&\r\n');
    expect(wrapped).toContain('\r\n');
    expect(readAttachments(wrapped, LIMITS)).toEqual(expected);
  });

  it('reads the JSON array sent as raw text, surrounding whitespace included', () => {
    expect(readAttachments(`\n  ${json}  \n`, LIMITS)).toEqual(expected);
  });

  it('reads a list of Maps, as a JSON body arrives', () => {
    const value = [item('all-bytes.pdf', base64(ALL_BYTES)), item('résumé 日本.pdf', base64(PDF))];
    expect(readAttachments(value, LIMITS)).toEqual(expected);
  });

  it('reads a Map keyed by index, as 1-based PHP form arrays (attachments[1][name]) arrive, in order', () => {
    const value = new Map<string, FormValue>([
      ['1', item('all-bytes.pdf', base64(ALL_BYTES))],
      ['2', item('résumé 日本.pdf', base64(PDF))],
    ]);
    expect(readAttachments(value, LIMITS)).toEqual(expected);
  });

  it('decodes data in the URL-safe alphabet, unpadded, and with line breaks', () => {
    const urlSafe = ALL_BYTES.toString('base64url');
    expect(urlSafe).toMatch(/[-_]/);
    const wrapped = base64(ALL_BYTES).replace(/.{76}/g, '$&\n');
    const [a, b] = readAttachments([item('a.pdf', urlSafe), item('b.pdf', wrapped)], LIMITS);
    expect(a!.data).toEqual(ALL_BYTES);
    expect(b!.data).toEqual(ALL_BYTES);
  });

  it('returns the sanitised name to store and the name as sent, control characters removed', () => {
    const [a] = readAttachments([item('../../etc/pass\u0000wd.txt', base64('x'))], LIMITS);
    expect(a).toMatchObject({ name: 'passwd.txt', originalName: '../../etc/passwd.txt' });
  });

  it.each<[string, FormValue | undefined]>([
    ['no field at all', undefined],
    ['null', null],
    ['an empty string', ''],
    ['a blank string', '  '],
    ['"[]"', '[]'],
    ['"[]" with spaces around it', ' [] '],
    ['"W10=" (base64 of [])', 'W10='],
    ['an empty list', []],
    ['an empty Map', new Map()],
    ['raw JSON text of an empty array with space inside', '[ ]'],
  ])('reads %s as no attachments', (_label, value) => {
    expect(readAttachments(value, LIMITS)).toEqual([]);
  });
});

describe('readAttachments: positions', () => {
  it('numbers attachments after the file parts already received', () => {
    expectApiError(
      () =>
        readAttachments([item('ok.txt', 'eA=='), item('x.exe', 'eA==')], LIMITS, {
          count: 3,
          bytes: 0,
        }),
      {
        status: 400,
        code: 'invalid_attachment',
        message: /^Attachment 5 \("x\.exe"\): extension \.exe is not allowed/,
      },
    );
  });

  it('counts the file parts already received against the attachment count', () => {
    const fileParts = { count: 5, bytes: 0 };
    expect(readAttachments(many(5), LIMITS, fileParts)).toHaveLength(5);
    expectApiError(() => readAttachments(many(6), LIMITS, fileParts), {
      status: 413,
      code: 'payload_too_large',
      message: 'Attachment count exceeds the limit of 10 attachments',
    });
  });

  it("counts the file parts' bytes against the total", () => {
    const kib = [item('a.txt', base64('x'.repeat(1024)))];
    expect(readAttachments(kib, SMALL, { count: 1, bytes: 1024 })).toHaveLength(1);
    for (const [value, bytes] of [
      [kib, 1025],
      ['', 2049],
    ] as const) {
      expectApiError(() => readAttachments(value, SMALL, { count: 1, bytes }), {
        status: 413,
        code: 'payload_too_large',
        message: 'Attachments in total exceeds the limit of 2 KiB',
      });
    }
  });
});

describe('readAttachments: limits', () => {
  it('accepts as many attachments as the limit allows', () => {
    expect(readAttachments(many(10), LIMITS)).toHaveLength(10);
  });

  it('refuses one attachment more than the limit with 413', () => {
    expectApiError(() => readAttachments(many(11), LIMITS), {
      status: 413,
      code: 'payload_too_large',
      message: 'Attachment count exceeds the limit of 10 attachments',
    });
  });

  it('refuses any attachment when the limit is zero', () => {
    expectApiError(() => readAttachments(many(1), { ...LIMITS, count: 0 }), {
      status: 413,
      code: 'payload_too_large',
      message: 'Attachment count exceeds the limit of 0 attachments',
    });
  });

  it('accepts an attachment of exactly the size limit', () => {
    const [a] = readAttachments([item('max.pdf', base64(Buffer.alloc(1024, 7)))], SMALL);
    expect(a!.data).toHaveLength(1024);
  });

  it('refuses an attachment one byte over the size limit with 413 naming it', () => {
    expectApiError(() => readAttachments([item('big.pdf', base64(Buffer.alloc(1025, 7)))], SMALL), {
      status: 413,
      code: 'payload_too_large',
      message: 'Attachment 1 ("big.pdf") exceeds the limit of 1 KiB',
    });
  });

  it('refuses oversize text before decoding it (a decoder would call this invalid base64)', () => {
    // Valid length, but a character no alphabet has: decoding first would answer 400.
    const text = `${'A'.repeat(4000)}*`;
    expectApiError(() => readAttachments([item('big.pdf', text)], SMALL), {
      status: 413,
      code: 'payload_too_large',
      message: 'Attachment 1 ("big.pdf") exceeds the limit of 1 KiB',
    });
  });

  it('does not count whitespace in base64 text towards the size', () => {
    const spaced = base64(Buffer.alloc(1024, 7)).replace(/.{4}/g, '$&\n\n\n\n');
    expect(readAttachments([item('max.pdf', spaced)], SMALL)[0]!.data).toHaveLength(1024);
  });

  it('refuses attachments over the total limit with 413, though each is within its own', () => {
    const value = [1000, 1000, 49].map((n, i) => item(`p${i}.pdf`, base64(Buffer.alloc(n, i))));
    expectApiError(() => readAttachments(value, SMALL), {
      status: 413,
      code: 'payload_too_large',
      message: 'Attachments in total exceeds the limit of 2 KiB',
    });
    expect(readAttachments(value.slice(0, 2), SMALL)).toHaveLength(2);
  });
});

describe('readAttachments: refusals', () => {
  it('refuses data that is not valid base64, naming the attachment', () => {
    expectApiError(
      () => readAttachments([item('ok.txt', 'eA=='), item('report.pdf', 'not base64!')], LIMITS),
      {
        status: 400,
        code: 'invalid_attachment',
        message: 'Attachment 2 ("report.pdf"): data is not valid base64',
      },
    );
  });

  it('refuses data whose length no base64 encoder produces', () => {
    expectApiError(() => readAttachments([item('report.pdf', 'QUJDR')], LIMITS), {
      status: 400,
      code: 'invalid_attachment',
      message: 'Attachment 1 ("report.pdf"): data is not valid base64',
    });
  });

  it.each<[string, FormMap]>([
    ['a missing name', new Map([['data', 'eA==']])],
    ['a missing data', new Map([['name', 'a.txt']])],
    [
      'a name that is not a string',
      new Map<string, FormValue>([
        ['name', 5],
        ['data', 'eA=='],
      ]),
    ],
    [
      'data that is a list',
      new Map<string, FormValue>([
        ['name', 'a.txt'],
        ['data', ['eA==']],
      ]),
    ],
  ])('refuses an attachment with %s', (_label, value) => {
    expectApiError(() => readAttachments([item('ok.txt', 'eA=='), value], LIMITS), {
      status: 400,
      code: 'invalid_attachment',
      message: 'Attachment 2: send an object with a name and base64 data',
    });
  });

  it.each<[string, string]>([
    ['a string', '["a.txt"]'],
    ['a number', '[1]'],
    ['null', '[null]'],
    ['a nested list', '[["a.txt", "eA=="]]'],
  ])('refuses a JSON list item that is %s instead of an object', (_label, text) => {
    expectApiError(() => readAttachments(text, LIMITS), {
      status: 400,
      code: 'invalid_attachment',
      message: 'Attachment 1: send an object with a name and base64 data',
    });
  });

  it('refuses base64 of a JSON object instead of an array', () => {
    expectApiError(() => readAttachments(base64('{"name":"a.txt","data":"eA=="}'), LIMITS), {
      status: 400,
      code: 'invalid_parameter',
      message: 'Invalid attachments: send a list of {name, data}, or base64 of its JSON',
    });
  });

  it('refuses raw JSON object text instead of an array', () => {
    expectApiError(() => readAttachments('{"name":"a.txt","data":"eA=="}', LIMITS), {
      status: 400,
      code: 'invalid_parameter',
      message: /^Invalid attachments: /,
    });
  });

  it('refuses a JSON body object {name, data} in place of a list of them', () => {
    const value = new Map<string, FormValue>([
      ['name', 'a.txt'],
      ['data', 'eA=='],
    ]);
    expectApiError(() => readAttachments(value, LIMITS), {
      status: 400,
      code: 'invalid_attachment',
      message: 'Attachment 1: send an object with a name and base64 data',
    });
  });

  it('refuses text that is neither base64 nor JSON', () => {
    expectApiError(() => readAttachments('report.pdf', LIMITS), {
      status: 400,
      code: 'invalid_parameter',
      message: /^Invalid attachments: not valid base64/,
    });
  });

  it('refuses base64 of text that is not JSON', () => {
    expectApiError(() => readAttachments(base64('[{"name":'), LIMITS), {
      status: 400,
      code: 'invalid_parameter',
      message: 'Invalid attachments: not a valid JSON array of {name, data}',
    });
  });

  it.each<[string, FormValue]>([
    ['a number', 5],
    ['a boolean', true],
  ])('refuses %s as the attachments value', (_label, value) => {
    expectApiError(() => readAttachments(value, LIMITS), {
      status: 400,
      code: 'invalid_parameter',
      message: 'Invalid attachments: send a list of {name, data}, or base64 of its JSON',
    });
  });

  it('refuses a bad name through the same rules as checkAttachmentName', () => {
    expectApiError(() => readAttachments([item('x.php', 'eA==')], LIMITS), {
      status: 400,
      code: 'invalid_attachment',
      message: 'Attachment 1 ("x.php"): extension .php is never allowed',
    });
  });

  it('keeps __proto__ keys of a JSON item as plain data, polluting nothing', () => {
    const text = '[{"name":"a.txt","data":"eA==","__proto__":{"polluted":1}}]';
    expect(readAttachments(text, LIMITS)).toHaveLength(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
