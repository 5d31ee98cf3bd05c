import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import {
  REPLY_JOB,
  REPLY_QUEUE,
  replyJobId,
  replyJobJsonSchema,
  validateReplyJob,
  type ReplyJob,
  type ReplyJobCheck,
} from './reply-job.ts';

const REPLY_ID = '0192f1c4-7b3a-7c2e-9d4f-1a2b3c4d5e6f';

/** A v1 job using every field: what the ingress enqueues for a client reply with attachments. */
function validJob(): ReplyJob {
  return {
    v: 1,
    replyid: REPLY_ID,
    dedupeKey: 'idempotency:client-7:5f0c2a9e-order-42',
    ticket: { id: 42 },
    author: { type: 'client', clientid: 7, contactid: 3 },
    message: 'Thanks, the **restart** fixed it.',
    markdown: true,
    status: null,
    noemail: false,
    created: '2026-01-15T10:20:30.000Z',
    customfields: [
      { field: 1, value: 'Google' },
      { field: 'Referral', value: 'Search engine' },
    ],
    attachments: [
      {
        name: 'server.log',
        blob: {
          sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
          size: 5,
        },
      },
      { name: 'note.txt', data: 'aGVsbG8=' },
    ],
    source: { kind: 'api', principal: 'client-7' },
    receivedAt: '2026-01-15T10:20:31.123Z',
  };
}

/** validJob() with `changes` applied on top: a key set to undefined is removed. */
function jobWith(changes: Record<string, unknown>): Record<string, unknown> {
  const job: Record<string, unknown> = { ...validJob(), ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete job[key];
  return job;
}

/** The reason of a refused job; fails the test if the job was accepted. */
function reasonOf(check: ReplyJobCheck): string {
  if (check.ok) throw new Error(`expected the job to be refused: ${JSON.stringify(check.job)}`);
  return check.reason;
}

describe('validateReplyJob', () => {
  it('accepts a complete v1 job and returns it unchanged', () => {
    expect(validateReplyJob(validJob())).toEqual({ ok: true, job: validJob() });
  });

  it('accepts a job that has been through JSON, as it comes back from Redis', () => {
    expect(validateReplyJob(JSON.parse(JSON.stringify(validJob())))).toEqual({
      ok: true,
      job: validJob(),
    });
  });

  it('accepts a guest reply found by ticket number, as an email bridge sends it', () => {
    const job = jobWith({
      dedupeKey: 'email:support@example.com:<CAF=abc@mail.example.com>',
      ticket: { num: 'ABC-123456' },
      author: { type: 'guest', name: 'Ada Lovelace', email: 'ada@example.com' },
      markdown: false,
      created: null,
      customfields: [],
      attachments: [],
      source: {
        kind: 'email',
        principal: 'bridge-imap',
        messageId: '<CAF=abc@mail.example.com>',
        inReplyTo: '<ticket-42@helpdesk.example.com>',
      },
    });
    expect(validateReplyJob(job)).toEqual({ ok: true, job });
  });

  it('accepts a staff reply with a status, no email, and a created time with an offset', () => {
    const job = jobWith({
      author: { type: 'staff', admin: 'Grace Hopper' },
      status: 'On Hold',
      noemail: true,
      created: '2026-01-15T12:20:30+02:00',
    });
    expect(validateReplyJob(job).ok).toBe(true);
  });

  it('accepts a client author without a contact', () => {
    const job = jobWith({ author: { type: 'client', clientid: 7, contactid: null } });
    expect(validateReplyJob(job).ok).toBe(true);
  });

  it('keeps a message of only "0", which is a real message', () => {
    expect(validateReplyJob(jobWith({ message: '0' })).ok).toBe(true);
  });

  describe('refuses, with a reason naming the version, a job of another version', () => {
    it.each<[string, unknown, string]>([
      ['v: 2', jobWith({ v: 2 }), 'unsupported reply job version 2; this worker reads v1'],
      [
        'no v',
        jobWith({ v: undefined }),
        'unsupported reply job version null; this worker reads v1',
      ],
      [
        'v: "1" as text',
        jobWith({ v: '1' }),
        'unsupported reply job version "1"; this worker reads v1',
      ],
      ['v: 0', jobWith({ v: 0 }), 'unsupported reply job version 0; this worker reads v1'],
    ])('%s', (_, data, reason) => {
      expect(validateReplyJob(data)).toEqual({ ok: false, reason });
    });

    it.each<[string, unknown]>([
      ['null', null],
      ['undefined', undefined],
      ['a string', 'reply'],
      ['a number', 1],
      ['an array', [validJob()]],
    ])('even when the data is %s, not an object', (_, data) => {
      expect(reasonOf(validateReplyJob(data))).toMatch(/^unsupported reply job version /);
    });
  });

  describe('refuses an invalid v1 job, naming the bad path', () => {
    it('an extra top-level property, since the contract is strict', () => {
      expect(reasonOf(validateReplyJob(jobWith({ priority: 1 })))).toBe(
        'invalid reply job: (job): Unrecognized key: "priority"',
      );
    });

    it('an extra property inside the author, which could smuggle in a staff name', () => {
      const reason = reasonOf(
        validateReplyJob(
          jobWith({ author: { type: 'client', clientid: 7, contactid: 3, admin: 'x' } }),
        ),
      );
      expect(reason).toMatch(/^invalid reply job: author: .*"admin"/);
    });

    it.each([
      'not-a-uuid',
      '',
      '0192f1c4-7b3a-7c2e-9d4f',
      `${REPLY_ID}x`,
      REPLY_ID.replace(/-/g, ''),
    ])('a replyid %j that is not a uuid', (replyid) => {
      expect(reasonOf(validateReplyJob(jobWith({ replyid })))).toMatch(
        /^invalid reply job: replyid: /,
      );
    });

    it.each([
      ['an unknown author type', { type: 'admin', admin: 'Grace' }],
      ['a missing author type', { clientid: 7, contactid: 3 }],
      ['an author type in the wrong case', { type: 'Client', clientid: 7, contactid: 3 }],
    ])('%s', (_, author) => {
      expect(reasonOf(validateReplyJob(jobWith({ author })))).toMatch(/^invalid reply job: author/);
    });

    it.each([
      ['a client without clientid', { type: 'client', contactid: 3 }],
      ['a client id of 0', { type: 'client', clientid: 0, contactid: null }],
      ['a client id as text', { type: 'client', clientid: '7', contactid: null }],
      ['a guest with a bad email', { type: 'guest', name: 'Ada', email: 'ada@' }],
      ['a guest without a name', { type: 'guest', name: '', email: 'ada@example.com' }],
      ['staff without a name', { type: 'staff', admin: '' }],
    ])('an author that is %s', (_, author) => {
      expect(reasonOf(validateReplyJob(jobWith({ author })))).toMatch(
        /^invalid reply job: author\./,
      );
    });

    it('an empty message', () => {
      expect(reasonOf(validateReplyJob(jobWith({ message: '' })))).toMatch(
        /^invalid reply job: message: /,
      );
    });

    it('a message of only whitespace, which API.md §4 treats as no message', () => {
      expect(reasonOf(validateReplyJob(jobWith({ message: ' \n\t ' })))).toBe(
        'invalid reply job: message: must not be blank',
      );
    });

    it('a message over 256 KiB', () => {
      expect(reasonOf(validateReplyJob(jobWith({ message: 'x'.repeat(262_145) })))).toMatch(
        /^invalid reply job: message: /,
      );
    });

    it.each([
      ['both an id and a number', { id: 42, num: 'ABC-1' }],
      ['neither', {}],
      ['an id of 0', { id: 0 }],
      ['an id beyond PostgreSQL integer', { id: 2_147_483_648 }],
      ['a number with a space', { num: 'ABC 1' }],
    ])('a ticket with %s', (_, ticket) => {
      expect(reasonOf(validateReplyJob(jobWith({ ticket })))).toMatch(/^invalid reply job: ticket/);
    });

    it.each([
      ['without an offset', '2026-01-15T10:20:30'],
      ['in the SQL form', '2026-01-15 10:20:30'],
      ['that is not a date', 'yesterday'],
    ])('a created time %s, since producers normalise it first', (_, created) => {
      expect(reasonOf(validateReplyJob(jobWith({ created })))).toMatch(
        /^invalid reply job: created: /,
      );
    });

    it.each([
      ['a blob hash in upper case', { name: 'a.txt', blob: { sha256: 'A'.repeat(64), size: 1 } }],
      ['a short blob hash', { name: 'a.txt', blob: { sha256: 'a'.repeat(63), size: 1 } }],
      ['a negative size', { name: 'a.txt', blob: { sha256: 'a'.repeat(64), size: -1 } }],
      [
        'both a blob and data',
        { name: 'a.txt', data: 'aGk=', blob: { sha256: 'a'.repeat(64), size: 2 } },
      ],
      ['no name', { data: 'aGk=' }],
    ])('an attachment with %s', (_, attachment) => {
      expect(reasonOf(validateReplyJob(jobWith({ attachments: [attachment] })))).toMatch(
        /^invalid reply job: attachments\.0/,
      );
    });

    it('inline attachment data over 256 KiB in all, even when each one is under it', () => {
      const chunk = 'A'.repeat(200_000);
      const attachments = [
        { name: 'a.txt', data: chunk },
        { name: 'b.txt', data: chunk },
      ];
      expect(validateReplyJob(jobWith({ attachments: attachments.slice(0, 1) })).ok).toBe(true);
      expect(reasonOf(validateReplyJob(jobWith({ attachments })))).toBe(
        'invalid reply job: attachments: inline data exceeds 256 KiB in all; use blob references',
      );
    });

    it('a custom field value over 64 KiB', () => {
      const customfields = [{ field: 1, value: 'x'.repeat(65_537) }];
      expect(reasonOf(validateReplyJob(jobWith({ customfields })))).toMatch(
        /^invalid reply job: customfields\.0\.value: /,
      );
    });

    it('a source kind other than api or email', () => {
      const source = { kind: 'sms', principal: 'gateway' };
      expect(reasonOf(validateReplyJob(jobWith({ source })))).toMatch(
        /^invalid reply job: source\.kind: /,
      );
    });

    it('markdown or noemail sent as text instead of booleans', () => {
      expect(reasonOf(validateReplyJob(jobWith({ markdown: 'true' })))).toMatch(/markdown: /);
      expect(reasonOf(validateReplyJob(jobWith({ noemail: 0 })))).toMatch(/noemail: /);
    });
  });

  it('names at most five problems, so a garbage job gives a readable reason', () => {
    const reason = reasonOf(validateReplyJob({ v: 1 }));
    expect(reason).toMatch(/^invalid reply job: /);
    expect(reason.replace(/^invalid reply job: /, '').split('; ')).toHaveLength(5);
  });

  it('does not change the data it checks', () => {
    const data = jobWith({ priority: 1 });
    const before = JSON.stringify(data);
    validateReplyJob(data);
    expect(JSON.stringify(data)).toBe(before);
  });
});

describe('queue names', () => {
  it('publishes the queue "replies" and the job name "reply" of API.md §9', () => {
    expect(REPLY_QUEUE).toBe('replies');
    expect(REPLY_JOB).toBe('reply');
  });

  it('derives a BullMQ job id from the replyid without colons and not all digits', () => {
    const jobId = replyJobId(REPLY_ID);
    expect(jobId).toBe(`reply-${REPLY_ID}`);
    expect(jobId).not.toContain(':');
    expect(replyJobId('12345')).not.toMatch(/^\d+$/);
  });
});

describe('replyJobJsonSchema', () => {
  it('the committed JSON Schema matches the zod schema', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../reply-job.v1.schema.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(
      committed,
      "regenerate it: cd packages/contract && npx tsx -e \"import('./src/index.ts').then((m) => " +
        "process.stdout.write(JSON.stringify(m.replyJobJsonSchema(), null, 2) + '\\n'))\" " +
        '> reply-job.v1.schema.json',
    ).toEqual(replyJobJsonSchema());
  });

  it('requires every v1 field, forbids any other, and pins v to 1', () => {
    const schema = replyJobJsonSchema() as {
      $schema: string;
      required: string[];
      additionalProperties: boolean;
      properties: { v: { const: number } };
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect([...schema.required].sort()).toEqual(Object.keys(validJob()).sort());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.v.const).toBe(1);
  });
});
