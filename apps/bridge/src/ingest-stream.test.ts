import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { apiError } from '@ticketflow/contract';
import type { MailIngest } from './ingest-mail.ts';
import { ingestStream } from './ingest-stream.ts';
import type { MailOutcome } from './mail-outcome.ts';

const options = { mailbox: 'support', maxBytes: 10 };
/** Bytes as stdin delivers them, in chunks. */
const input = (...chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c)));
/** A pipeline that answers `outcome` (or throws it), and keeps what it was given. */
function answering(outcome: MailOutcome | Error) {
  const seen: Array<{ raw: string; mailbox: string }> = [];
  const ingest: MailIngest = (raw, delivery) => {
    seen.push({ raw: Buffer.from(raw).toString(), mailbox: delivery.mailbox });
    return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
  };
  return { ingest, seen };
}

describe('ingestStream', () => {
  it('exits 0 for a posted or a dropped message, with the whole input ingested', async () => {
    const posted = answering({ outcome: 'posted', replyid: 'r-1', ticketId: 1, tid: 'T-1' });
    expect(await ingestStream(posted.ingest, input('ab', 'cd'), options)).toEqual({
      code: 0,
      line: 'posted: reply r-1 on ticket T-1',
    });
    expect(posted.seen).toEqual([{ raw: 'abcd', mailbox: 'support' }]);
    const dropped = answering({
      outcome: 'dropped',
      reason: 'bounce',
      detail: 'a delivery status report',
    });
    expect((await ingestStream(dropped.ingest, input('x'), options)).code).toBe(0);
  });

  it('exits 67 (EX_NOUSER, a bounce) for a refusal and for input over the limit', async () => {
    const refused = answering({
      outcome: 'refused',
      reason: 'no_ticket',
      error: apiError('email_no_ticket'),
    });
    expect(await ingestStream(refused.ingest, input('x'), options)).toMatchObject({
      code: 67,
      line: expect.stringMatching(/^refused: No ticket matches/) as string,
    });
    const unread = answering(new Error('never called'));
    expect(await ingestStream(unread.ingest, input('0123456789', 'x'), options)).toEqual({
      code: 67,
      line: 'refused: the message exceeds the limit of 10 bytes',
    });
    expect(unread.seen).toEqual([]);
  });

  it('exits 75 (EX_TEMPFAIL: the MTA keeps the message) when the pipeline fails', async () => {
    const down = answering(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    expect(await ingestStream(down.ingest, input('x'), options)).toEqual({
      code: 75,
      line: 'deferred: connect ECONNREFUSED 127.0.0.1:5432; try again later',
    });
  });
});
