import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postForm, type Answer } from './answers.ts';
import { startStack, type TestSeed, type TestStack } from './stack.ts';
import { countJobs, countReplies } from './stack-counts.ts';

/**
 * Every error of API.md §4, reached by a real request on both endpoints, in WHMCS's order,
 * and nothing written by any of them.
 */

let stack: TestStack;
beforeAll(async () => {
  // Many refused requests aim at one ticket; the per-ticket limit is not what is tested here.
  stack = await startStack({ env: { TICKETFLOW_RATE_LIMIT_PER_TICKET: '100000' } });
});
afterAll(async () => {
  await stack.close();
});

type Who = 'client' | 'staff' | 'bridge' | 'ops';
type Fields = Record<string, string | string[]>;

function tokenOf(who: Who): string {
  switch (who) {
    case 'client':
      return stack.clientToken;
    case 'staff':
      return stack.staffToken;
    case 'bridge':
      return stack.token({ role: 'bridge', sub: 'bridge-validation' });
    case 'ops':
      return stack.token({ role: 'ops', sub: 'ops-validation' });
  }
}

/** An urlencoded POST as `who`. */
function post(path: string, who: Who, fields: Fields, headers: Record<string, string> = {}) {
  return postForm(`${stack.url}${path}`, fields, {
    authorization: `Bearer ${tokenOf(who)}`,
    ...headers,
  });
}

/**
 * What a refused request must not add to: reply rows, custom field values (they belong to the
 * ticket, API.md §5) and BullMQ jobs in any state.
 */
async function traces(): Promise<{ replies: number; customFieldValues: number; jobs: number }> {
  const [values] = await stack.database
    .db('custom_field_values')
    .count<{ count: string }[]>('* as count');
  return {
    replies: await countReplies(stack),
    customFieldValues: Number(values!.count),
    jobs: await countJobs(stack),
  };
}

interface Refusal {
  status: number;
  code: string;
  message: string;
}

/**
 * Sends `fields` to both endpoints and expects the same refusal: its own status on
 * /api/v2, HTTP 200 (403 for permissions) on /includes/api.php; and nothing half-written.
 */
async function expectRefused(who: Who, fields: Fields, refusal: Refusal): Promise<void> {
  const before = await traces();
  const body = { result: 'error', message: refusal.message, code: refusal.code };

  const v2 = await post('/api/v2/add-ticket-reply', who, fields);
  expect(v2.body).toEqual(body);
  expect(v2.status).toBe(refusal.status);

  const whmcs = await post('/includes/api.php', who, { action: 'AddTicketReply', ...fields });
  expect(whmcs.body).toEqual(body);
  expect(whmcs.status).toBe(refusal.status === 401 || refusal.status === 403 ? 403 : 200);

  expect(await traces()).toEqual(before);
}

/** Posts a reply that must be stored, and waits until the worker has stored it. */
async function expectStored(who: Who, fields: Fields): Promise<Answer> {
  const answer = await post('/api/v2/add-ticket-reply', who, fields, { prefer: 'wait=10' });
  expect(answer.body).toMatchObject({ result: 'success', status: 'persisted' });
  expect(answer.status).toBe(200);
  return answer;
}

async function ticketStatus(ticketId: number): Promise<string> {
  const row = await stack.database
    .db('tickets')
    .where({ id: ticketId })
    .first<{ status: string } | undefined>('status');
  return row!.status;
}

const notPositive = (field: string, value: string): Refusal => ({
  status: 400,
  code: 'invalid_integer',
  message: `Invalid ${field}: ${JSON.stringify(value)} is not a positive whole number`,
});

type Case = [name: string, who: Who, fields: (s: TestSeed) => Fields, refusal: Refusal];

const TICKET_NOT_FOUND: Refusal = {
  status: 404,
  code: 'ticket_not_found',
  message: 'Ticket ID Not Found',
};
const CLIENT_NOT_FOUND: Refusal = {
  status: 404,
  code: 'client_not_found',
  message: 'Client ID Not Found',
};
const CONTACT_NOT_FOUND: Refusal = {
  status: 404,
  code: 'contact_not_found',
  message: 'Contact ID Not Found',
};
const NAME_EMAIL_REQUIRED: Refusal = {
  status: 400,
  code: 'name_email_required',
  message: 'Name and email address are required if not a client',
};
const EMAIL_INVALID: Refusal = {
  status: 400,
  code: 'email_invalid',
  message: 'Email Address Invalid',
};
const MESSAGE_REQUIRED: Refusal = {
  status: 400,
  code: 'message_required',
  message: 'Message is required',
};
const INVALID_STATUS: Refusal = {
  status: 400,
  code: 'invalid_status',
  message: 'Invalid Ticket Status',
};
const INVALID_DATE: Refusal = { status: 400, code: 'invalid_date', message: 'Invalid Date Format' };
const DATE_IN_FUTURE: Refusal = {
  status: 400,
  code: 'date_in_future',
  message: 'Reply creation date cannot be in the future',
};
const TICKET_REQUIRED: Refusal = {
  status: 400,
  code: 'ticket_required',
  message: 'Either ticketid or ticketnum is required',
};
const forbidden = (reason: string): Refusal => ({
  status: 403,
  code: 'forbidden',
  message: `Invalid Permissions: ${reason}`,
});

/** base64(serialize([7 => "Google"])): the WHMCS sample aimed at a field the department lacks. */
const UNKNOWN_FIELD = Buffer.from('a:1:{i:7;s:6:"Google";}').toString('base64');
const UNKNOWN_FIELD_REFUSAL: Refusal = {
  status: 400,
  code: 'invalid_custom_field',
  message: "Custom field 7 does not exist for this ticket's department",
};
/** base64 of [{"name":"a.exe","data":"aGk="}]: one attachment whose extension is not allowed. */
const ONE_ATTACHMENT = Buffer.from(JSON.stringify([{ name: 'a.exe', data: 'aGk=' }])).toString(
  'base64',
);
const FUTURE = '2999-01-01 00:00:00';

const mine = (s: TestSeed) => String(s.ticketId);

describe('each error of API.md §4, on both endpoints', () => {
  it.each<Case>([
    // Ticket.
    [
      'Ticket ID Not Found for an unknown ticketid',
      'staff',
      () => ({ ticketid: '999999', message: 'x' }),
      TICKET_NOT_FOUND,
    ],
    [
      'Ticket ID Not Found for an unknown ticketnum',
      'staff',
      () => ({ ticketnum: 'NOPE-404', message: 'x' }),
      TICKET_NOT_FOUND,
    ],
    [
      'Either ticketid or ticketnum is required when neither is sent',
      'staff',
      () => ({ message: 'x' }),
      TICKET_REQUIRED,
    ],
    [
      'Either ticketid or ticketnum is required when both are blank',
      'staff',
      () => ({ ticketid: ' ', ticketnum: '', message: 'x' }),
      TICKET_REQUIRED,
    ],
    [
      'an integer error for ticketid=0',
      'staff',
      () => ({ ticketid: '0', message: 'x' }),
      notPositive('ticketid', '0'),
    ],
    [
      'an integer error for ticketid=1.5',
      'staff',
      () => ({ ticketid: '1.5', message: 'x' }),
      notPositive('ticketid', '1.5'),
    ],
    [
      'an integer error for ticketid=1e3',
      'staff',
      () => ({ ticketid: '1e3', message: 'x' }),
      notPositive('ticketid', '1e3'),
    ],
    [
      'an integer error for ticketid=-1',
      'staff',
      () => ({ ticketid: '-1', message: 'x' }),
      notPositive('ticketid', '-1'),
    ],
    [
      'an integer error for ticketid=abc',
      'staff',
      () => ({ ticketid: 'abc', message: 'x' }),
      notPositive('ticketid', 'abc'),
    ],
    [
      'an out-of-range error for a ticketid beyond PostgreSQL integers',
      'staff',
      () => ({ ticketid: '99999999999', message: 'x' }),
      {
        status: 400,
        code: 'invalid_parameter',
        message: 'Invalid ticketid: 99999999999 is out of range (at most 2147483647)',
      },
    ],
    [
      'a format error for a ticketnum with spaces',
      'staff',
      () => ({ ticketnum: 'DEMO 1', message: 'x' }),
      {
        status: 400,
        code: 'invalid_parameter',
        message: 'Invalid ticketnum: use 1 to 15 letters, digits or dashes',
      },
    ],
    // Client.
    [
      'Client ID Not Found for an unknown clientid',
      'staff',
      (s) => ({ ticketid: mine(s), clientid: '999999', message: 'x' }),
      CLIENT_NOT_FOUND,
    ],
    [
      'an integer error for clientid=1.5',
      'bridge',
      (s) => ({ ticketid: mine(s), clientid: '1.5', message: 'x' }),
      notPositive('clientid', '1.5'),
    ],
    // Contact.
    [
      'Contact ID Not Found for an unknown contactid',
      'staff',
      (s) => ({
        ticketid: mine(s),
        clientid: String(s.clientId),
        contactid: '999999',
        message: 'x',
      }),
      CONTACT_NOT_FOUND,
    ],
    [
      'Contact ID Not Found for a contact of another client than clientid',
      'bridge',
      (s) => ({
        ticketid: mine(s),
        clientid: String(s.clientId),
        contactid: String(s.otherContactId),
        message: 'x',
      }),
      CONTACT_NOT_FOUND,
    ],
    [
      "Contact ID Not Found for contactid without clientid, checked against the ticket's client",
      'bridge',
      (s) => ({ ticketid: mine(s), contactid: String(s.otherContactId), message: 'x' }),
      CONTACT_NOT_FOUND,
    ],
    [
      'Contact ID Not Found for contactid without clientid on a ticket of no client',
      'bridge',
      (s) => ({ ticketid: String(s.guestTicketId), contactid: String(s.contactId), message: 'x' }),
      CONTACT_NOT_FOUND,
    ],
    [
      "Contact ID Not Found for a client token naming another client's contact",
      'client',
      (s) => ({ ticketid: mine(s), contactid: String(s.otherContactId), message: 'x' }),
      CONTACT_NOT_FOUND,
    ],
    [
      'an integer error for contactid=abc',
      'bridge',
      (s) => ({ ticketid: mine(s), contactid: 'abc', message: 'x' }),
      notPositive('contactid', 'abc'),
    ],
    // Name and email.
    [
      'Name and email address are required for a guest with neither',
      'bridge',
      (s) => ({ ticketid: mine(s), message: 'x' }),
      NAME_EMAIL_REQUIRED,
    ],
    [
      'Name and email address are required for a guest with a name only',
      'bridge',
      (s) => ({ ticketid: mine(s), name: 'Gina', message: 'x' }),
      NAME_EMAIL_REQUIRED,
    ],
    [
      'Name and email address are required for a guest whose name is blank',
      'bridge',
      (s) => ({ ticketid: mine(s), name: '  ', email: 'gina@example.com', message: 'x' }),
      NAME_EMAIL_REQUIRED,
    ],
    [
      'Email Address Invalid for a malformed email',
      'bridge',
      (s) => ({ ticketid: mine(s), name: 'Gina', email: 'gina-at-example.com', message: 'x' }),
      EMAIL_INVALID,
    ],
    [
      'Email Address Invalid for an address with a space',
      'bridge',
      (s) => ({ ticketid: mine(s), name: 'Gina', email: 'gina @example.com', message: 'x' }),
      EMAIL_INVALID,
    ],
    // Message.
    [
      'Message is required when it is missing',
      'client',
      (s) => ({ ticketid: mine(s) }),
      MESSAGE_REQUIRED,
    ],
    [
      'Message is required when it is empty',
      'client',
      (s) => ({ ticketid: mine(s), message: '' }),
      MESSAGE_REQUIRED,
    ],
    [
      'Message is required when it is only whitespace',
      'client',
      (s) => ({ ticketid: mine(s), message: ' \r\n\t ' }),
      MESSAGE_REQUIRED,
    ],
    [
      'a single-value error for a message sent twice',
      'client',
      (s) => ({ ticketid: mine(s), message: ['one', 'two'] }),
      {
        status: 400,
        code: 'invalid_parameter',
        message: 'Invalid message: send a single text value',
      },
    ],
    // Booleans.
    [
      'Invalid boolean for markdown: "maybe"',
      'client',
      (s) => ({ ticketid: mine(s), message: 'x', markdown: 'maybe' }),
      { status: 400, code: 'invalid_boolean', message: 'Invalid boolean for markdown: "maybe"' },
    ],
    [
      'Invalid boolean for useMarkdown: "maybe", naming the alias that was sent',
      'client',
      (s) => ({ ticketid: mine(s), message: 'x', useMarkdown: 'maybe' }),
      { status: 400, code: 'invalid_boolean', message: 'Invalid boolean for useMarkdown: "maybe"' },
    ],
    [
      'Invalid boolean for noemail: "2"',
      'staff',
      (s) => ({ ticketid: mine(s), message: 'x', noemail: '2' }),
      { status: 400, code: 'invalid_boolean', message: 'Invalid boolean for noemail: "2"' },
    ],
    // Status.
    [
      'Invalid Ticket Status for a staff reply with an unknown status',
      'staff',
      (s) => ({ ticketid: mine(s), message: 'x', status: 'Resolved-ish' }),
      INVALID_STATUS,
    ],
    // Created.
    [
      'Invalid Date Format for words',
      'staff',
      (s) => ({ ticketid: mine(s), message: 'x', created: 'yesterday' }),
      INVALID_DATE,
    ],
    [
      'Invalid Date Format for a day that does not exist',
      'staff',
      (s) => ({ ticketid: mine(s), message: 'x', created: '2025-02-30 10:00:00' }),
      INVALID_DATE,
    ],
    [
      'Invalid Date Format for a US-style date',
      'staff',
      (s) => ({ ticketid: mine(s), message: 'x', created: '01/02/2025' }),
      INVALID_DATE,
    ],
    [
      'Reply creation date cannot be in the future',
      'staff',
      (s) => ({ ticketid: mine(s), message: 'x', created: FUTURE }),
      DATE_IN_FUTURE,
    ],
    [
      'Reply creation date cannot be in the future (ISO 8601)',
      'staff',
      (s) => ({ ticketid: mine(s), message: 'x', created: '2999-01-01T00:00:00Z' }),
      DATE_IN_FUTURE,
    ],
    // Custom fields and attachments.
    [
      "Custom field 7 does not exist for this ticket's department",
      'client',
      (s) => ({ ticketid: mine(s), message: 'x', customfields: UNKNOWN_FIELD }),
      UNKNOWN_FIELD_REFUSAL,
    ],
    [
      'a dropdown error for a value that is not one of its options',
      'client',
      (s) => ({
        ticketid: mine(s),
        message: 'x',
        customfields: Buffer.from('a:1:{i:2;s:4:"Gold";}').toString('base64'),
      }),
      {
        status: 400,
        code: 'invalid_custom_field',
        message: 'Custom field 2 (Plan): "Gold" is not one of Starter, Business, Enterprise',
      },
    ],
    [
      'a base64 error for customfields that are not base64',
      'client',
      (s) => ({ ticketid: mine(s), message: 'x', customfields: 'not base64!' }),
      {
        status: 400,
        code: 'invalid_parameter',
        message: 'Invalid customfields: not valid base64 (send base64_encode(serialize($array)))',
      },
    ],
    [
      'an attachment error for a base64 JSON attachment with a disallowed extension',
      'client',
      (s) => ({ ticketid: mine(s), message: 'x', attachments: ONE_ATTACHMENT }),
      {
        status: 400,
        code: 'invalid_attachment',
        message:
          'Attachment 1 ("a.exe"): extension .exe is not allowed (allowed: .jpg, .gif, .jpeg, .png, .txt, .pdf)',
      },
    ],
    [
      'an attachment error for a PHP attachment array whose data is not base64',
      'client',
      (s) => ({
        ticketid: mine(s),
        message: 'x',
        'attachments[0][name]': 'a.txt',
        'attachments[0][data]': 'not*base64',
      }),
      {
        status: 400,
        code: 'invalid_attachment',
        message: 'Attachment 1 ("a.txt"): data is not valid base64',
      },
    ],
    // Permissions.
    [
      'a 403 for a client token sending adminusername',
      'client',
      (s) => ({ ticketid: mine(s), message: 'x', adminusername: 'Mallory' }),
      forbidden('adminusername requires a staff token'),
    ],
    [
      'a 403 for a client token sending status',
      'client',
      (s) => ({ ticketid: mine(s), message: 'x', status: 'Closed' }),
      forbidden('status requires a staff token'),
    ],
    [
      'a 403 for a client token sending created',
      'client',
      // A valid date in the past: only who sends it is wrong.
      (s) => ({ ticketid: mine(s), message: 'x', created: '2020-01-01 00:00:00' }),
      forbidden('created requires a staff token'),
    ],
    [
      'a 403 for a client token sending the clientid of another client',
      'client',
      (s) => ({ ticketid: mine(s), message: 'x', clientid: String(s.otherClientId) }),
      forbidden("clientid must be the token's own client"),
    ],
    [
      'a 403 for an ops token',
      'ops',
      (s) => ({ ticketid: mine(s), message: 'x' }),
      forbidden('ops tokens cannot post replies'),
    ],
  ])('answers %s', async (_name, who, fields, refusal) => {
    await expectRefused(who, fields(stack.seed), refusal);
  });
});

describe('validation order: the earlier fault is reported', () => {
  it.each<Case>([
    [
      'ticket before message',
      'staff',
      () => ({ ticketid: '999999', message: '' }),
      TICKET_NOT_FOUND,
    ],
    [
      'ticket before client',
      'staff',
      () => ({ ticketid: '999999', clientid: '999999', message: 'x' }),
      TICKET_NOT_FOUND,
    ],
    ['"ticket required" before message', 'staff', () => ({ message: '' }), TICKET_REQUIRED],
    [
      'client before contact',
      'staff',
      (s) => ({ ticketid: mine(s), clientid: '999999', contactid: '999999', message: 'x' }),
      CLIENT_NOT_FOUND,
    ],
    [
      'contact before name/email',
      'bridge',
      (s) => ({ ticketid: mine(s), contactid: '999999', message: 'x' }),
      CONTACT_NOT_FOUND,
    ],
    [
      'name/email before message',
      'bridge',
      (s) => ({ ticketid: mine(s), message: '' }),
      NAME_EMAIL_REQUIRED,
    ],
    [
      'email syntax before message',
      'bridge',
      (s) => ({ ticketid: mine(s), name: 'Gina', email: 'nope', message: ' ' }),
      EMAIL_INVALID,
    ],
    [
      'message before status',
      'staff',
      (s) => ({ ticketid: mine(s), message: '', status: 'Nonsense' }),
      MESSAGE_REQUIRED,
    ],
    [
      'status before created',
      'staff',
      (s) => ({ ticketid: mine(s), message: 'x', status: 'Nonsense', created: 'yesterday' }),
      INVALID_STATUS,
    ],
    [
      'created format before customfields',
      'staff',
      (s) => ({
        ticketid: mine(s),
        message: 'x',
        created: 'yesterday',
        customfields: UNKNOWN_FIELD,
      }),
      INVALID_DATE,
    ],
    [
      'a future created before customfields',
      'staff',
      (s) => ({
        ticketid: mine(s),
        message: 'x',
        created: FUTURE,
        customfields: UNKNOWN_FIELD,
      }),
      DATE_IN_FUTURE,
    ],
    [
      'customfields before attachments',
      'staff',
      (s) => ({
        ticketid: mine(s),
        message: 'x',
        customfields: UNKNOWN_FIELD,
        attachments: ONE_ATTACHMENT,
      }),
      UNKNOWN_FIELD_REFUSAL,
    ],
  ])('reports %s', async (_name, who, fields, refusal) => {
    await expectRefused(who, fields(stack.seed), refusal);
  });
});

describe('size limits', () => {
  // 'é' is 2 bytes of UTF-8: one past 256 KiB in bytes while far under it in characters.
  const LIMIT = 256 * 1024;

  it('answers 413 to a message of 256 KiB + 2 bytes of UTF-8 in half as many characters', async () => {
    const message = 'é'.repeat(LIMIT / 2 + 1);
    expect(message.length).toBeLessThan(LIMIT);
    expect(Buffer.byteLength(message)).toBeGreaterThan(LIMIT);
    await expectRefused(
      'client',
      { ticketid: mine(stack.seed), message },
      {
        status: 413,
        code: 'payload_too_large',
        message: 'message exceeds the limit of 256 KiB of UTF-8',
      },
    );
  });

  it('accepts a message of exactly 256 KiB of UTF-8', async () => {
    const message = 'é'.repeat(LIMIT / 2);
    const answer = await expectStored('client', { ticketid: mine(stack.seed), message });
    const row = (await stack.database
      .db('ticket_replies')
      .where({ reply_uid: answer.body.replyid })
      .first<{ message: string } | undefined>('message'))!;
    expect(row.message).toBe(message);
  });

  it('refuses a real file part named .php with 400 and stores nothing', async () => {
    const before = await traces();
    const form = new FormData();
    form.append('ticketid', mine(stack.seed));
    form.append('message', 'with a file');
    form.append('attachments[]', new Blob(['<?php echo 1;'], { type: 'text/plain' }), 'hello.php');
    const res = await fetch(`${stack.url}/api/v2/add-ticket-reply`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.clientToken}` },
      body: form,
    });
    expect(await res.json()).toEqual({
      result: 'error',
      message: 'Attachment 1 ("hello.php"): extension .php is never allowed',
      code: 'invalid_attachment',
    });
    expect(res.status).toBe(400);
    expect(await traces()).toEqual(before);
  });
});

describe('text PostgreSQL cannot store', () => {
  it.each<[string, Who, (s: TestSeed) => Fields, string]>([
    [
      'the message',
      'client',
      (s) => ({ ticketid: mine(s), message: 'before\u0000after' }),
      'message',
    ],
    [
      "a guest's name",
      'bridge',
      (s) => ({ ticketid: mine(s), message: 'x', name: 'Gina\u0000', email: 'gina@example.com' }),
      'name',
    ],
  ])(
    'refuses a NUL character (U+0000) in %s with a 400 naming the field, instead of accepting a reply the worker cannot store',
    async (_name, who, fields, field) => {
      const before = await traces();
      const answer = await post('/api/v2/add-ticket-reply', who, fields(stack.seed), {
        prefer: 'wait=5',
      });
      expect(answer.body).toMatchObject({ result: 'error', code: 'invalid_parameter' });
      expect(answer.body.message).toMatch(new RegExp(`\\b${field}\\b`));
      expect(answer.status).toBe(400);
      expect(await traces()).toEqual(before);
    },
  );
});

describe('/includes/api.php actions', () => {
  it.each([
    ['another action', { action: 'GetClients' }],
    ['a missing action', {}],
    ['an empty action', { action: '' }],
  ])('answers %s with HTTP 200 "Invalid API action"', async (_name, action) => {
    const before = await traces();
    const answer = await post('/includes/api.php', 'staff', {
      ...action,
      ticketid: mine(stack.seed),
      message: 'x',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      result: 'error',
      message: 'Invalid API action',
      code: 'invalid_api_action',
    });
    expect(await traces()).toEqual(before);
  });

  it('matches the action name case-insensitively, as WHMCS does', async () => {
    const answer = await post('/includes/api.php', 'client', {
      action: 'addticketreply',
      ticketid: mine(stack.seed),
      message: 'lower-case action',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ result: 'success' });
  });
});

describe('who replies decides the status', () => {
  it('sets Answered after a staff reply without a status', async () => {
    await expectStored('staff', { ticketid: mine(stack.seed), message: 'staff, default' });
    expect(await ticketStatus(stack.seed.ticketId)).toBe('Answered');
  });

  it.each([
    ['answered', 'Answered'],
    ['on hold', 'On Hold'],
    ['IN PROGRESS', 'In Progress'],
    [' closed ', 'Closed'],
  ])('normalises a staff status %j to %j', async (given, stored) => {
    await expectStored('staff', { ticketid: mine(stack.seed), message: 'staff', status: given });
    expect(await ticketStatus(stack.seed.ticketId)).toBe(stored);
  });

  it('sets Customer-Reply after a client reply', async () => {
    await expectStored('staff', { ticketid: mine(stack.seed), message: 'x', status: 'On Hold' });
    await expectStored('client', { ticketid: mine(stack.seed), message: 'client' });
    expect(await ticketStatus(stack.seed.ticketId)).toBe('Customer-Reply');
  });

  it('ignores a status from a bridge replying as a client, with a warning', async () => {
    await expectStored('staff', { ticketid: mine(stack.seed), message: 'x', status: 'On Hold' });
    const answer = await expectStored('bridge', {
      ticketid: mine(stack.seed),
      clientid: String(stack.seed.clientId),
      message: 'bridge as client',
      status: 'Closed',
    });
    expect(answer.body.warnings).toEqual([
      'status was ignored: end-user replies always set Customer-Reply',
    ]);
    expect(await ticketStatus(stack.seed.ticketId)).toBe('Customer-Reply');
  });

  it("accepts contactid without clientid as the ticket's client's contact", async () => {
    const answer = await expectStored('bridge', {
      ticketid: mine(stack.seed),
      contactid: String(stack.seed.contactId),
      message: 'from the contact',
    });
    const row = (await stack.database
      .db('ticket_replies')
      .where({ reply_uid: answer.body.replyid })
      .first<{ client_id: number; contact_id: number } | undefined>('client_id', 'contact_id'))!;
    expect(row).toEqual({ client_id: stack.seed.clientId, contact_id: stack.seed.contactId });
  });

  it('stores a past created date given as YYYY-MM-DD HH:mm:ss in UTC', async () => {
    const answer = await expectStored('staff', {
      ticketid: mine(stack.seed),
      message: 'backdated',
      created: '2024-01-02 03:04:05',
    });
    const row = (await stack.database
      .db('ticket_replies')
      .where({ reply_uid: answer.body.replyid })
      .first<{ created_at: Date } | undefined>('created_at'))!;
    expect(row.created_at.toISOString()).toBe('2024-01-02T03:04:05.000Z');
  });
});
