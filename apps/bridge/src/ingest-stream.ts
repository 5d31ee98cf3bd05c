import { formatBytes } from '@ticketflow/contract';
import type { MailIngest } from './ingest-mail.ts';

/**
 * sysexits(3) codes, which Postfix's pipe(8) and local(8), Exim and sendmail read from a
 * delivery command: 0 delivered, 67 (EX_NOUSER) bounce to the sender, 75 (EX_TEMPFAIL) keep
 * the message queued and try again later.
 */
const EXIT_DELIVERED = 0;
const EXIT_REFUSED = 67;
export const EXIT_RETRY = 75;

/**
 * `ticketflow bridge ingest`: one message from `input` (stdin, the rt-mailgate habit), read up
 * to `maxBytes`. Answers the exit code and the line to print: posted or dropped 0, refused 67
 * (the reason reaches the sender in the MTA's bounce), a fault 75.
 */
export async function ingestStream(
  ingest: MailIngest,
  input: AsyncIterable<Uint8Array>,
  options: { mailbox: string; maxBytes: number },
): Promise<{ code: number; line: string }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of input) {
    size += chunk.length;
    if (size > options.maxBytes) {
      return {
        code: EXIT_REFUSED,
        line: `refused: the message exceeds the limit of ${formatBytes(options.maxBytes)}`,
      };
    }
    chunks.push(chunk);
  }
  let outcome;
  try {
    outcome = await ingest(Buffer.concat(chunks), {
      mailbox: options.mailbox,
      principal: `bridge:${options.mailbox}`,
    });
  } catch (error) {
    return { code: EXIT_RETRY, line: `deferred: ${(error as Error).message}; try again later` };
  }
  switch (outcome.outcome) {
    case 'posted':
      return {
        code: EXIT_DELIVERED,
        line: `posted: reply ${outcome.replyid} on ticket ${outcome.tid}`,
      };
    case 'dropped':
      return { code: EXIT_DELIVERED, line: `dropped: ${outcome.detail} (${outcome.reason})` };
    case 'refused':
      return { code: EXIT_REFUSED, line: `refused: ${outcome.error.message}` };
  }
}
