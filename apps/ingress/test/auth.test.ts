import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOf, postForm, type Answer } from './answers.ts';
import { startStack, type TestStack } from './stack.ts';
import { countReplies } from './stack-counts.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
});

/** A urlencoded POST, as PHP's http_build_query sends it. */
function post(
  path: string,
  authorization: string | undefined,
  fields: Record<string, string>,
  extra: Record<string, string> = {},
): Promise<Answer> {
  return postForm(`${stack.url}${path}`, fields, {
    ...(authorization === undefined ? {} : { authorization }),
    ...extra,
  });
}

async function getTicket(authorization: string, query: Record<string, string>): Promise<Answer> {
  const search = new URLSearchParams(query).toString();
  return answerOf(
    await fetch(`${stack.url}/api/v2/get-ticket?${search}`, { headers: { authorization } }),
  );
}

const bearer = (token: string) => `Bearer ${token}`;

/** Posts a reply and waits for the worker to store it; returns the stored row. */
async function replyAndFetchRow(authorization: string, fields: Record<string, string>) {
  const answer = await post('/api/v2/add-ticket-reply', authorization, fields, {
    prefer: 'wait=10',
  });
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ result: 'success', status: 'persisted' });
  const row = (await stack.database
    .db('ticket_replies')
    .where({ reply_uid: answer.body.replyid })
    .first()) as
    | {
        ticket_id: number;
        client_id: number | null;
        contact_id: number | null;
        name: string;
        email: string;
        admin: string;
        source_principal: string;
      }
    | undefined;
  expect(row).toBeDefined();
  return row!;
}

/** A token with the stack's secret and any claims, for what `stack.token` cannot express. */
function signed(claims: Record<string, unknown>, secret = stack.config.jwt.secret!): string {
  return jwt.sign({ aud: stack.config.jwt.audience, ...claims }, secret, { algorithm: 'HS256' });
}

const now = () => Math.floor(Date.now() / 1000);

describe('authentication over HTTP', () => {
  it('answers 401 "missing bearer token" with a bare Bearer challenge when Authorization is missing', async () => {
    const answer = await post('/api/v2/add-ticket-reply', undefined, {
      ticketid: String(stack.seed.ticketId),
      message: 'hi',
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    expect(answer.body).toEqual({
      result: 'error',
      message: 'Authentication Failed: missing bearer token',
      code: 'missing_bearer_token',
    });
  });

  it('answers 401 with error="invalid_token" to a token forged with another secret', async () => {
    const forged = signed(
      { sub: 'staff-x', role: 'staff', admin: 'Mallory', exp: now() + 600 },
      randomBytes(32).toString('hex'),
    );
    const answer = await post('/api/v2/add-ticket-reply', bearer(forged), {
      ticketid: String(stack.seed.ticketId),
      message: 'hi',
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(answer.body).toMatchObject({ result: 'error', code: 'invalid_token' });
    expect(answer.body.message).toMatch(/^Authentication Failed: /);
  });

  it('answers 401 "token expired" to an expired token', async () => {
    const expired = signed({
      sub: 'client-x',
      role: 'client',
      clientid: stack.seed.clientId,
      exp: now() - 120,
    });
    const answer = await getTicket(bearer(expired), { ticketid: String(stack.seed.ticketId) });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(answer.body).toEqual({
      result: 'error',
      message: 'Authentication Failed: token expired',
      code: 'invalid_token',
    });
  });

  it('answers an unsigned token (alg: none attack) with 401 invalid_token', async () => {
    const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const token = `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'staff-x', role: 'staff', aud: stack.config.jwt.audience, exp: now() + 600 })}.`;
    const answer = await post('/api/v2/add-ticket-reply', bearer(token), {
      ticketid: String(stack.seed.ticketId),
      message: 'hi',
    });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ result: 'error', code: 'invalid_token' });
  });

  it('answers authentication failures on /includes/api.php with HTTP 403, as WHMCS does', async () => {
    const fields = {
      action: 'AddTicketReply',
      ticketid: String(stack.seed.ticketId),
      message: 'hi',
    };
    const missing = await post('/includes/api.php', undefined, fields);
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual({
      result: 'error',
      message: 'Authentication Failed: missing bearer token',
      code: 'missing_bearer_token',
    });

    const expired = signed({
      sub: 'client-x',
      role: 'client',
      clientid: stack.seed.clientId,
      exp: now() - 120,
    });
    const stale = await post('/includes/api.php', bearer(expired), fields);
    expect(stale.status).toBe(403);
    expect(stale.body).toEqual({
      result: 'error',
      message: 'Authentication Failed: token expired',
      code: 'invalid_token',
    });

    const forged = signed(
      { sub: 'staff-x', role: 'staff', exp: now() + 600 },
      randomBytes(32).toString('hex'),
    );
    const bad = await post('/includes/api.php', bearer(forged), fields);
    expect(bad.status).toBe(403);
    expect(bad.body).toMatchObject({ result: 'error', code: 'invalid_token' });
  });
});

describe('authorisation of a client token', () => {
  const MISSING_TICKET_ID = '999999';
  const MISSING_TICKET_NUM = 'NOPE-404';

  it("answers 404 when a client token replies on another client's ticket, exactly like a missing ticket (by ticketid)", async () => {
    const token = bearer(stack.clientToken);
    const other = await post('/api/v2/add-ticket-reply', token, {
      ticketid: String(stack.seed.otherTicketId),
      message: 'probe',
    });
    const missing = await post('/api/v2/add-ticket-reply', token, {
      ticketid: MISSING_TICKET_ID,
      message: 'probe',
    });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      result: 'error',
      message: 'Ticket ID Not Found',
      code: 'ticket_not_found',
    });
    expect(other.status).toBe(missing.status);
    expect(other.body).toEqual(missing.body);
    expect(await countReplies(stack, { ticket_id: stack.seed.otherTicketId })).toBe(0);
  });

  it("answers 404 when a client token replies on another client's ticket, exactly like a missing ticket (by ticketnum)", async () => {
    const token = bearer(stack.clientToken);
    const other = await post('/api/v2/add-ticket-reply', token, {
      ticketnum: 'OTHER-1',
      message: 'probe',
    });
    const missing = await post('/api/v2/add-ticket-reply', token, {
      ticketnum: MISSING_TICKET_NUM,
      message: 'probe',
    });
    const missingById = await post('/api/v2/add-ticket-reply', token, {
      ticketid: MISSING_TICKET_ID,
      message: 'probe',
    });
    expect(missing.status).toBe(404);
    expect(other.status).toBe(missing.status);
    expect(other.body).toEqual(missing.body);
    expect(other.body).toEqual(missingById.body);
    expect(await countReplies(stack, { ticket_id: stack.seed.otherTicketId })).toBe(0);
  });

  it("answers 404 when a client token reads another client's ticket, exactly like a missing ticket", async () => {
    const token = bearer(stack.clientToken);
    const otherById = await getTicket(token, { ticketid: String(stack.seed.otherTicketId) });
    const missingById = await getTicket(token, { ticketid: MISSING_TICKET_ID });
    const otherByNum = await getTicket(token, { ticketnum: 'OTHER-1' });
    const missingByNum = await getTicket(token, { ticketnum: MISSING_TICKET_NUM });
    expect(missingById.status).toBe(404);
    expect(missingById.body).toEqual({
      result: 'error',
      message: 'Ticket ID Not Found',
      code: 'ticket_not_found',
    });
    for (const answer of [otherById, otherByNum, missingByNum]) {
      expect(answer.status).toBe(missingById.status);
      expect(answer.body).toEqual(missingById.body);
    }
  });

  it("answers 404 on a guest's ticket too, which belongs to no client", async () => {
    const token = bearer(stack.clientToken);
    const guest = await post('/api/v2/add-ticket-reply', token, {
      ticketid: String(stack.seed.guestTicketId),
      message: 'probe',
    });
    expect(guest.status).toBe(404);
    expect(guest.body).toEqual({
      result: 'error',
      message: 'Ticket ID Not Found',
      code: 'ticket_not_found',
    });
  });

  it('lets a client token reply on its own ticket as its own client', async () => {
    const row = await replyAndFetchRow(bearer(stack.clientToken), {
      ticketid: String(stack.seed.ticketId),
      message: 'my own ticket',
    });
    expect(row).toMatchObject({
      ticket_id: stack.seed.ticketId,
      client_id: stack.seed.clientId,
      admin: '',
    });
    const own = await getTicket(bearer(stack.clientToken), { ticketnum: stack.seed.ticketNum });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ result: 'success', ticketid: stack.seed.ticketId });
  });
});

describe('authorisation of other roles', () => {
  it('refuses replies from an ops token with 403', async () => {
    const ops = stack.token({ role: 'ops', scope: 'ops:write' });
    const answer = await post('/api/v2/add-ticket-reply', bearer(ops), {
      ticketid: String(stack.seed.ticketId),
      message: 'ops says hi',
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ result: 'error', code: 'forbidden' });
    expect(answer.body.message).toMatch(/^Invalid Permissions: /);
  });

  it("lets a staff token reply on any client's ticket as staff, under its admin claim", async () => {
    const row = await replyAndFetchRow(bearer(stack.staffToken), {
      ticketid: String(stack.seed.otherTicketId),
      message: 'staff here',
    });
    expect(row).toMatchObject({
      ticket_id: stack.seed.otherTicketId,
      admin: 'Test Staff',
      client_id: null,
    });
  });

  it('lets a staff token reply under the display name in adminusername', async () => {
    const row = await replyAndFetchRow(bearer(stack.staffToken), {
      ticketid: String(stack.seed.guestTicketId),
      message: 'night shift here',
      adminusername: 'Night Shift',
    });
    expect(row).toMatchObject({ ticket_id: stack.seed.guestTicketId, admin: 'Night Shift' });
  });

  it('lets a bridge token post as a guest with name and email', async () => {
    const bridge = stack.token({ role: 'bridge', sub: 'mail-bridge' });
    const row = await replyAndFetchRow(bearer(bridge), {
      ticketid: String(stack.seed.guestTicketId),
      message: 'sent by mail',
      name: 'Gale Guest',
      email: 'gale@guest.example',
    });
    expect(row).toMatchObject({
      ticket_id: stack.seed.guestTicketId,
      client_id: null,
      name: 'Gale Guest',
      email: 'gale@guest.example',
      admin: '',
      source_principal: 'mail-bridge',
    });
  });

  it('lets a bridge token post as a client given clientid', async () => {
    const bridge = stack.token({ role: 'bridge', sub: 'mail-bridge' });
    const row = await replyAndFetchRow(bearer(bridge), {
      ticketid: String(stack.seed.otherTicketId),
      message: 'the other client, by mail',
      clientid: String(stack.seed.otherClientId),
    });
    expect(row).toMatchObject({
      ticket_id: stack.seed.otherTicketId,
      client_id: stack.seed.otherClientId,
      admin: '',
    });
  });

  it('asks a bridge token for name and email when it names no client', async () => {
    const bridge = stack.token({ role: 'bridge', sub: 'mail-bridge' });
    const answer = await post('/api/v2/add-ticket-reply', bearer(bridge), {
      ticketid: String(stack.seed.guestTicketId),
      message: 'who am I',
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      result: 'error',
      message: 'Name and email address are required if not a client',
      code: 'name_email_required',
    });
  });
});
