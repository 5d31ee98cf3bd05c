import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  notificationMessageId,
  readNotificationMessageId,
  ticketThreadId,
} from './notification-message-id.ts';

const KEY = 'test-key-for-message-ids';
const UID = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** The mac the spec describes, computed independently of the module. */
function specMac(subject: string, key = KEY): string {
  return createHmac('sha256', key).update(subject).digest().subarray(0, 16).toString('base64url');
}

/** The id with its mac replaced by `mac`. */
function withMac(id: string, mac: string): string {
  return id.replace(/\.[A-Za-z0-9_-]{22}@/, `.${mac}@`);
}

describe('notificationMessageId', () => {
  it('writes <tf.{ticketId}.{replyUid}.{mac}@{domain}> with the mac of the spec', () => {
    expect(notificationMessageId({ ticketId: 42, replyUid: UID }, KEY, 'help.example.com')).toBe(
      `<tf.42.${UID}.${specMac(`tf.42.${UID}`)}@help.example.com>`,
    );
  });

  it('gives the same id for the same reply, so a retried send names the same message', () => {
    const ref = { ticketId: 7, replyUid: UID };
    expect(notificationMessageId(ref, KEY, 'example.com')).toBe(
      notificationMessageId(ref, KEY, 'example.com'),
    );
  });

  it('refuses what would make an ambiguous or injectable id', () => {
    expect(() => notificationMessageId({ ticketId: 0, replyUid: UID }, KEY, 'x.com')).toThrow(
      RangeError,
    );
    expect(() => notificationMessageId({ ticketId: 1.5, replyUid: UID }, KEY, 'x.com')).toThrow(
      RangeError,
    );
    expect(() =>
      notificationMessageId({ ticketId: 1, replyUid: UID.toUpperCase() }, KEY, 'x.com'),
    ).toThrow(RangeError);
    expect(() => notificationMessageId({ ticketId: 1, replyUid: UID }, '', 'x.com')).toThrow(
      RangeError,
    );
    expect(() =>
      notificationMessageId({ ticketId: 1, replyUid: UID }, KEY, 'x.com>\r\nBcc: a@b'),
    ).toThrow(RangeError);
    expect(() => ticketThreadId(1, KEY, '')).toThrow(RangeError);
  });
});

describe('ticketThreadId', () => {
  it('writes <tf.{ticketId}.{mac}@{domain}> with the mac over tf.{ticketId}', () => {
    expect(ticketThreadId(42, KEY, 'example.com')).toBe(`<tf.42.${specMac('tf.42')}@example.com>`);
  });
});

describe('readNotificationMessageId', () => {
  const id = notificationMessageId({ ticketId: 42, replyUid: UID }, KEY, 'example.com');
  const thread = ticketThreadId(42, KEY, 'example.com');

  it('reads a notification id back to its ticket and reply', () => {
    expect(readNotificationMessageId(id, KEY)).toEqual({ ticketId: 42, replyUid: UID });
  });

  it('reads a thread anchor back to its ticket alone', () => {
    expect(readNotificationMessageId(thread, KEY)).toEqual({ ticketId: 42 });
  });

  it('tolerates missing angle brackets, surrounding whitespace and another domain', () => {
    expect(readNotificationMessageId(id.slice(1, -1), KEY)).toEqual({
      ticketId: 42,
      replyUid: UID,
    });
    expect(readNotificationMessageId(`  ${id}\r\n`, KEY)).toEqual({ ticketId: 42, replyUid: UID });
    expect(
      readNotificationMessageId(id.replace('@example.com', '@relay.example.net'), KEY),
    ).toEqual({
      ticketId: 42,
      replyUid: UID,
    });
  });

  it('matches nothing for an id forged without the key', () => {
    const forged = `<tf.42.${UID}.${specMac(`tf.42.${UID}`, 'guessed-key')}@example.com>`;
    expect(readNotificationMessageId(forged, KEY)).toBeUndefined();
  });

  it('matches nothing when the ticket or reply of a genuine id is changed', () => {
    expect(readNotificationMessageId(id.replace('tf.42.', 'tf.43.'), KEY)).toBeUndefined();
    expect(readNotificationMessageId(thread.replace('tf.42.', 'tf.43.'), KEY)).toBeUndefined();
    expect(
      readNotificationMessageId(id.replace(UID, UID.replace('0f8f', '1f8f')), KEY),
    ).toBeUndefined();
  });

  it('matches nothing when a notification mac is moved onto the thread anchor or back', () => {
    const notificationMac = /\.([A-Za-z0-9_-]{22})@/.exec(id)?.[1] ?? '';
    const threadMac = /\.([A-Za-z0-9_-]{22})@/.exec(thread)?.[1] ?? '';
    expect(readNotificationMessageId(withMac(thread, notificationMac), KEY)).toBeUndefined();
    expect(readNotificationMessageId(withMac(id, threadMac), KEY)).toBeUndefined();
  });

  it('matches nothing for another spelling of a genuine mac (unused low bits of the last character)', () => {
    const mac = /\.([A-Za-z0-9_-]{22})@/.exec(id)?.[1] ?? '';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(mac.slice(-1));
    const sibling = alphabet[last ^ 1] ?? '';
    expect(Buffer.from(mac.slice(0, -1) + sibling, 'base64url')).toEqual(
      Buffer.from(mac, 'base64url'),
    );
    expect(readNotificationMessageId(withMac(id, mac.slice(0, -1) + sibling), KEY)).toBeUndefined();
  });

  it('matches nothing under another key, or under an empty key', () => {
    expect(readNotificationMessageId(id, 'another-key')).toBeUndefined();
    expect(readNotificationMessageId(id, '')).toBeUndefined();
  });

  it('matches nothing for malformed ids', () => {
    for (const text of [
      '',
      '<>',
      `<${id.slice(1, -1)}`,
      `${id.slice(1, -1)}>`,
      id.replace('<tf.', '<TF.'),
      id.replace(UID, UID.toUpperCase()),
      id.replace('tf.42.', 'tf.042.'),
      id.replace('@example.com', ''),
      id.replace('@example.com', '@exa mple.com'),
      `<tf.99999999999999999.${UID}.${specMac(`tf.99999999999999999.${UID}`)}@x.com>`,
      `${id} ${id}`,
      '<0f8fad5b@example.com>',
    ]) {
      expect(readNotificationMessageId(text, KEY), text).toBeUndefined();
    }
  });
});
