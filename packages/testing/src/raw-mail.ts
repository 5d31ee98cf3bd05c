import { randomUUID } from 'node:crypto';

/** A reply's subject that names the demo ticket by its tag, as mail clients keep it. */
export const DEMO_TICKET_SUBJECT = 'Re: [Ticket ID: DEMO-000001] My website is down';

/**
 * An RFC 822 message to the `support` mailbox as an MTA hands it on, from the seeded contact by
 * default, with a fresh Message-ID (`bare`, without brackets) and the dedupe key the bridge gives
 * it in that mailbox.
 */
export function rawMail(
  headers: Record<string, string>,
  body: string,
  from = 'contact@demo.example',
): { raw: string; bare: string; key: string } {
  const bare = `${randomUUID()}@mail.example`;
  const raw = [
    `From: ${from}`,
    'To: support@desk.example',
    `Message-ID: <${bare}>`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    body,
    '',
  ].join('\r\n');
  return { raw, bare, key: `email:support:${bare}` };
}
