import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { isWebhookSecret, newWebhookSecret, signWebhook, webhookHeaders } from './sign-webhook.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const BODY = '{"type":"ticket.replied","data":{"ticket":"ABC-123456","note":"café ✓"}}';

function nowS(): number {
  return Math.floor(Date.now() / 1000);
}

describe('signWebhook', () => {
  it('matches the example signature of the Standard Webhooks specification', () => {
    expect(signWebhook(SECRET, ID, 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('produces headers the reference library accepts', () => {
    const headers = webhookHeaders(SECRET, ID, nowS(), BODY);
    expect(new Webhook(SECRET).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it('produces headers the reference library accepts with a freshly generated secret', () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders(secret, ID, nowS(), BODY);
    expect(() => new Webhook(secret).verify(BODY, headers)).not.toThrow();
  });

  it('is rejected by the reference library when the body was tampered with', () => {
    const headers = webhookHeaders(SECRET, ID, nowS(), BODY);
    const tampered = BODY.replace('ABC-123456', 'ABC-999999');
    expect(() => new Webhook(SECRET).verify(tampered, headers)).toThrow(/signature/i);
  });

  it('is rejected by the reference library when the timestamp was replaced', () => {
    const headers = webhookHeaders(SECRET, ID, nowS(), BODY);
    const replayed = { ...headers, 'webhook-timestamp': String(nowS() + 60) };
    expect(() => new Webhook(SECRET).verify(BODY, replayed)).toThrow(/signature/i);
  });

  it('is rejected by the reference library under another secret', () => {
    const headers = webhookHeaders(SECRET, ID, nowS(), BODY);
    expect(() => new Webhook(newWebhookSecret()).verify(BODY, headers)).toThrow(/signature/i);
  });

  it.each([
    ['has no whsec_ prefix', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['is not base64', 'whsec_not base64 at all!!'],
    ['is empty after the prefix', 'whsec_'],
    ['holds only 8 bytes', `whsec_${Buffer.alloc(8, 7).toString('base64')}`],
  ])('refuses a secret that %s', (_case, secret) => {
    expect(() => signWebhook(secret, ID, nowS(), BODY)).toThrow(/whsec_/);
  });

  it('keeps a refused secret out of the error message, which ends up in logs', () => {
    const tooShort = `whsec_${Buffer.alloc(8, 7).toString('base64')}`;
    expect(() => signWebhook(tooShort, ID, nowS(), BODY)).not.toThrow(tooShort.slice(6));
  });

  it('refuses a fractional timestamp a receiver could never verify', () => {
    expect(() => signWebhook(SECRET, ID, 1614265330.5, BODY)).toThrow(RangeError);
  });
});

describe('webhookHeaders', () => {
  it('sends the Standard Webhooks headers, the JSON type and our user agent', () => {
    const headers = webhookHeaders(SECRET, ID, 1614265330, '{"test": 2432232314}');
    expect(headers).toEqual({
      'content-type': 'application/json',
      'webhook-id': ID,
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      'user-agent': 'Ticketflow-Webhooks/1',
    });
  });
});

describe('newWebhookSecret', () => {
  it('returns whsec_ and 24 random bytes in base64, different every time', () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(24);
    expect(a).not.toBe(b);
    expect(isWebhookSecret(a)).toBe(true);
  });
});

describe('isWebhookSecret', () => {
  it.each([
    ['a secret from the specification', SECRET, true],
    ['16 bytes', `whsec_${Buffer.alloc(16, 1).toString('base64')}`, true],
    ['64 bytes', `whsec_${Buffer.alloc(64, 1).toString('base64')}`, true],
    ['15 bytes', `whsec_${Buffer.alloc(15, 1).toString('base64')}`, false],
    ['65 bytes', `whsec_${Buffer.alloc(65, 1).toString('base64')}`, false],
    ['no prefix', SECRET.slice('whsec_'.length), false],
    ['another prefix', `whsk_${SECRET.slice('whsec_'.length)}`, false],
    ['base64url characters', `whsec_${'-_'.repeat(16)}`, false],
    [
      'missing padding',
      `whsec_${Buffer.alloc(20, 1).toString('base64').replace(/=+$/, '')}`,
      false,
    ],
    ['trailing whitespace', `${SECRET} `, false],
  ])('with %s is %s', (_case, value, expected) => {
    expect(isWebhookSecret(value)).toBe(expected);
  });
});
