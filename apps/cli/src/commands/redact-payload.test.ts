import { describe, expect, it } from 'vitest';
import { redactPayload } from './redact-payload.ts';

describe('redactPayload', () => {
  it('replaces the message, inline attachment data and the guest name and email by their length', () => {
    const payload = {
      v: 1,
      message: 'hello',
      author: { type: 'guest', name: 'Ann', email: 'ann@example.com' },
      attachments: [
        { name: 'a.txt', data: 'aGk=' },
        { name: 'b.png', blob: { sha256: 'x', size: 3 } },
      ],
    };
    expect(redactPayload(payload)).toEqual({
      v: 1,
      message: '[redacted: 5 chars]',
      author: { type: 'guest', name: '[redacted: 3 chars]', email: '[redacted: 15 chars]' },
      attachments: [
        { name: 'a.txt', data: '[redacted: 4 chars]' },
        { name: 'b.png', blob: { sha256: 'x', size: 3 } },
      ],
    });
  });

  it('leaves the payload it was given untouched', () => {
    const payload = { message: 'hello', author: { name: 'Ann' } };
    redactPayload(payload);
    expect(payload).toEqual({ message: 'hello', author: { name: 'Ann' } });
  });

  it('redacts what a malformed job holds in those places, whatever its type', () => {
    expect(redactPayload({ message: { text: 'hi' }, author: 'Ann', attachments: 'x' })).toEqual({
      message: '[redacted: 13 chars]',
      author: 'Ann',
      attachments: 'x',
    });
  });

  it.for([null, 'text', 42, [{ message: 'hi' }]])('returns %j as it is', (payload) => {
    expect(redactPayload(payload)).toEqual(payload);
  });
});
