import { describe, expect, it } from 'vitest';
import { redactJobData } from './redact-job-data.ts';

describe('redactJobData', () => {
  it('replaces what a guest wrote and who they are by its length, keeping ids and flags', () => {
    const job = {
      v: 1,
      replyid: '0193c0de-0000-7000-8000-000000000001',
      ticket: { num: 'ABC-123' },
      author: { type: 'guest', name: 'Ada', email: 'ada@example.com' },
      message: 'hello there',
      markdown: true,
      status: null,
      customfields: [{ field: 7, value: 'VAT IT0123' }],
      attachments: [
        { name: 'ada.pdf', data: 'QUJD' },
        { name: 'x.txt', blob: { sha256: 'ab', size: 3 } },
      ],
    };
    expect(redactJobData(job)).toEqual({
      v: 1,
      replyid: '0193c0de-0000-7000-8000-000000000001',
      ticket: { num: 'ABC-123' },
      author: { type: 'guest', name: '[redacted: 3 chars]', email: '[redacted: 15 chars]' },
      message: '[redacted: 11 chars]',
      markdown: true,
      status: null,
      customfields: [{ field: 7, value: '[redacted: 10 chars]' }],
      attachments: [
        { name: '[redacted: 7 chars]', data: '[redacted: 4 chars]' },
        { name: '[redacted: 5 chars]', blob: { sha256: 'ab', size: 3 } },
      ],
    });
  });

  it('redacts a staff display name and a malformed message that is not text', () => {
    expect(redactJobData({ author: { type: 'staff', admin: 'Bob' }, message: { x: 1 } })).toEqual({
      author: { type: 'staff', admin: '[redacted: 3 chars]' },
      message: '[redacted: 7 chars]',
    });
  });

  it('blanks email addresses anywhere else, such as an SMTP answer in a return value', () => {
    expect(
      redactJobData({ outcome: 'delivered', detail: '250 OK <ada@example.com> queued' }),
    ).toEqual({
      outcome: 'delivered',
      detail: '250 OK <[redacted email]> queued',
    });
  });

  it('leaves notification jobs and scalars as they are', () => {
    const job = { v: 1, outboxId: '0193c0de-0000-7000-8000-000000000002' };
    expect(redactJobData(job)).toEqual(job);
    expect(redactJobData(undefined)).toBeUndefined();
    expect(redactJobData(null)).toBeNull();
    expect(redactJobData(42)).toBe(42);
    expect(redactJobData('text')).toBe('text');
  });

  it('walks a payload that is a list, as a malformed job may be', () => {
    expect(redactJobData([{ message: 'hi' }])).toEqual([{ message: '[redacted: 2 chars]' }]);
  });

  it('leaves the job it was given untouched', () => {
    const job = { message: 'hello', author: { name: 'Ann' } };
    redactJobData(job);
    expect(job).toEqual({ message: 'hello', author: { name: 'Ann' } });
  });

  it('keeps a __proto__ key of a hostile job as a plain key, never as the prototype', () => {
    const hostile = JSON.parse('{"__proto__": {"message": "secret"}}') as unknown;
    const out = redactJobData(hostile) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"message":"[redacted: 6 chars]"}}');
  });

  it('cuts off nesting deeper than any contract instead of walking it', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(JSON.stringify(redactJobData(deep))).toContain('[redacted: nested too deep]');
  });
});
