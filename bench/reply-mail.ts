import { randomUUID } from 'node:crypto';
import type { DemoSeed } from '@ticketflow/db';

/** The mailbox both sides take mail for; neither reads the recipient. */
export const SUPPORT_ADDRESS = 'support@demo.example';

/**
 * What a customer's mail client sends back to a notification: a few lines of news, a
 * signature, and the whole earlier message quoted under "On … wrote:", as most clients do.
 * The bridge posts only the lines above the signature; the baseline keeps it all.
 */
const BODY = [
  'Hi,',
  '',
  'thanks for the quick restart, the shop answers again. The admin panel still times out',
  'when we open the order list with more than a few hundred rows, though. It started after',
  "last night's backup, as before. Could you check whether the limit you raised also covers",
  'the admin vhost? We are on the Business plan, server web-03.',
  '',
  'To reproduce:',
  '1. log in as an administrator',
  '2. open Orders and filter on the last 30 days',
  '3. wait about 30 seconds for the 504 Gateway Timeout',
  '',
  'Thanks,',
  'Marta',
  '',
  '-- ',
  'Marta Rossi',
  'Demo Client Ltd | +39 055 123 4567',
  'https://demo.example',
  '',
  'On Thu, Dec 3, 2026 at 10:14 AM Demo Support <support@demo.example> wrote:',
  '> Hello Marta,',
  '>',
  '> thanks for the details. We restarted the PHP-FPM pool on your server and the site',
  '> answers again. What happened:',
  '>',
  '> - the pool hit pm.max_children during the nightly backup;',
  '> - requests queued up until nginx gave up with a 502.',
  '>',
  '> We raised the limit and moved the backup to 03:00. More on the status page,',
  '> https://status.example.com. Let us know if you see it again; we keep the ticket',
  '> open for a week.',
  '>',
  '> Demo Support',
  '>',
  '> On Wed, Dec 2, 2026 at 9:02 AM Marta Rossi <contact@demo.example> wrote:',
  '>> Since this morning the site answers 502 for every customer, and the admin panel',
  '>> will not load either. Nothing changed on our side since last week. Can you have',
  '>> a look, please? It is our busiest day of the month.',
  '>>',
  '>> Marta',
].join('\r\n');

/**
 * A reply to the seeded ticket as an MTA hands it on: from its contact, the ticket's tag in
 * the subject, plain text, and a Message-ID of its own, so no message is a copy of another.
 */
export function replyMail(seed: Pick<DemoSeed, 'contactEmail' | 'ticketNum'>): string {
  return [
    `From: Marta Rossi <${seed.contactEmail}>`,
    `To: Demo Support <${SUPPORT_ADDRESS}>`,
    `Subject: Re: [Ticket ID: ${seed.ticketNum}] My website is down`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomUUID()}@mail.demo.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    BODY,
    '',
  ].join('\r\n');
}
