import { describe, expect, it } from 'vitest';
import { describeSmtpFailure, isPermanentSmtpFailure } from './classify-smtp-error.ts';

/** An error in the shape nodemailer gives one (see `NodemailerError`). */
function smtpError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('isPermanentSmtpFailure', () => {
  it('is true for a 5xx reply, whatever the command', () => {
    for (const responseCode of [550, 552, 553, 554, 535]) {
      expect(isPermanentSmtpFailure(smtpError('refused', { code: 'EMESSAGE', responseCode }))).toBe(
        true,
      );
    }
  });

  it('is false for 503, which faults the session rather than the message', () => {
    expect(
      isPermanentSmtpFailure(smtpError('bad sequence', { code: 'EPROTOCOL', responseCode: 503 })),
    ).toBe(false);
  });

  it('is false for a 4xx reply, 421 included', () => {
    for (const responseCode of [421, 450, 451, 452]) {
      expect(isPermanentSmtpFailure(smtpError('later', { code: 'EENVELOPE', responseCode }))).toBe(
        false,
      );
    }
  });

  it('follows the recipients of an envelope error that carries no reply of its own', () => {
    const rejected = (responseCode: number) =>
      smtpError('Recipient command failed', { responseCode });
    const envelope = (rejectedErrors: Error[]) =>
      smtpError('all recipients rejected', { code: 'EENVELOPE', rejectedErrors });
    expect(isPermanentSmtpFailure(envelope([rejected(550), rejected(553)]))).toBe(true);
    expect(isPermanentSmtpFailure(envelope([rejected(550), rejected(451)]))).toBe(false);
    expect(isPermanentSmtpFailure(envelope([]))).toBe(false);
  });

  it('is false for connection failures and timeouts', () => {
    for (const code of [
      'ECONNECTION',
      'ESOCKET',
      'ETIMEDOUT',
      'EDNS',
      'ECONNREFUSED',
      'ECONNRESET',
    ]) {
      expect(isPermanentSmtpFailure(smtpError('down', { code }))).toBe(false);
    }
  });

  it('is false for anything it does not recognise, so that it is retried', () => {
    for (const error of [
      new Error('boom'),
      'boom',
      undefined,
      null,
      550,
      { responseCode: '550' },
    ]) {
      expect(isPermanentSmtpFailure(error)).toBe(false);
    }
  });
});

describe('describeSmtpFailure', () => {
  it('gives the server reply on one line', () => {
    const error = smtpError(
      "Can't send mail - all recipients were rejected: 550 5.1.1 mailbox\r\n unavailable",
      {
        code: 'EENVELOPE',
        response: '550 5.1.1 mailbox\r\n unavailable',
        responseCode: 550,
      },
    );
    expect(describeSmtpFailure(error)).toBe('SMTP 550 5.1.1 mailbox unavailable');
  });

  it('gives the code when the reply text is missing', () => {
    expect(describeSmtpFailure(smtpError('refused', { responseCode: 554 }))).toBe('SMTP 554');
  });

  it('says the server was unreachable, with the cause', () => {
    const refused = smtpError('connect ECONNREFUSED 127.0.0.1:2525', {
      code: 'ESOCKET',
      originalCode: 'ECONNREFUSED',
    });
    expect(describeSmtpFailure(refused)).toBe(
      'SMTP server unreachable: connect ECONNREFUSED 127.0.0.1:2525',
    );
    const greeting = smtpError('Greeting never received', {
      code: 'ETIMEDOUT',
      timeoutType: 'GREETING_TIMEOUT',
    });
    expect(describeSmtpFailure(greeting)).toBe('SMTP server unreachable: Greeting never received');
  });

  it('falls back to the message alone, never the stack', () => {
    const error = new Error('first line\nsecond line');
    expect(describeSmtpFailure(error)).toBe('first line second line');
    expect(describeSmtpFailure('plain text')).toBe('plain text');
    expect(describeSmtpFailure(undefined)).toBe('undefined');
  });
});
