import { describe, expect, it } from 'vitest';
import { replyJobV1 } from '@ticketflow/contract';
import { mailDedupeKey, mailReplyId } from './mail-dedupe-key.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('mailDedupeKey', () => {
  it('is email:<mailbox>:<Message-ID>, brackets and spaces aside', () => {
    expect(mailDedupeKey('support', ' <CAH1x=9@mail.example> ', bytes('a'))).toBe(
      'email:support:CAH1x=9@mail.example',
    );
  });

  it('keys a message without a Message-ID by the SHA-256 of its bytes', () => {
    const a = mailDedupeKey('support', undefined, bytes('same bytes'));
    expect(a).toMatch(/^email:support:sha256:[0-9a-f]{64}$/);
    expect(mailDedupeKey('support', '', bytes('same bytes'))).toBe(a);
    expect(mailDedupeKey('support', undefined, bytes('other bytes'))).not.toBe(a);
  });

  it('hashes the bytes too when the Message-ID is too long or holds control characters', () => {
    expect(mailDedupeKey('s', `<${'x'.repeat(500)}@y>`, bytes('m'))).toMatch(/:sha256:/);
    expect(mailDedupeKey('s', '<a\u0000b@y>', bytes('m'))).toMatch(/:sha256:/);
  });
});

describe('mailReplyId', () => {
  it('gives every copy of a message one reply id, a UUID the contract accepts', () => {
    const id = mailReplyId('email:support:a@b');
    expect(mailReplyId('email:support:a@b')).toBe(id);
    expect(mailReplyId('email:other:a@b')).not.toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(replyJobV1.shape.replyid.safeParse(id).success).toBe(true);
  });
});
