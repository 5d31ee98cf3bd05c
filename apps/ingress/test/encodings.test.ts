import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOf, type Answer } from './answers.ts';
import { startStack, type TestStack } from './stack.ts';
import { countJobs, countReplies } from './stack-counts.ts';

/**
 * The contract suite of API.md §3: the same field sets, in every body encoding, to both
 * endpoints, each seen back through get-ticket.
 */

let stack: TestStack;
beforeAll(async () => {
  // Over a hundred replies reach the seeded ticket within the minute; the per-ticket limit is
  // tested in idempotency-and-status.test.ts, not here.
  stack = await startStack({ env: { TICKETFLOW_RATE_LIMIT_PER_TICKET: '100000' } });
});
afterAll(async () => {
  await stack.close();
});

type Native = string | number | boolean | Native[] | { [key: string]: Native };
type Fields = Record<string, Native>;

interface Request {
  headers: Record<string, string>;
  body: string | FormData;
}

/** PHP urlencode(): RFC 1738, so a space is "+" and only letters, digits and `-_.` stay bare. */
function phpUrlencode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** PHP http_build_query(): nested names `a[k]`, booleans as 1/0, empty arrays left out. */
function httpBuildQuery(fields: Fields): string {
  const pairs: string[] = [];
  const add = (name: string, value: Native): void => {
    if (typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) add(`${name}[${key}]`, item);
    } else {
      const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
      pairs.push(`${phpUrlencode(name)}=${phpUrlencode(text)}`);
    }
  };
  for (const [name, value] of Object.entries(fields)) add(name, value);
  return pairs.join('&');
}

/** What the jQuery sample builds: FormData.append(name, String(value)), "[]" for empty lists. */
function formData(fields: Fields): FormData {
  const form = new FormData();
  const add = (name: string, value: Native): void => {
    if (typeof value === 'object' && Object.keys(value).length === 0) form.append(name, '[]');
    else if (typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) add(`${name}[${key}]`, item);
    } else form.append(name, String(value));
  };
  for (const [name, value] of Object.entries(fields)) add(name, value);
  return form;
}

/** JSON with native types: "[]" placeholders become a real `{}` / `[]`. */
function nativeJson(fields: Fields): string {
  const out: Fields = JSON.parse(JSON.stringify(fields)) as Fields;
  if (out.customfields === '[]') out.customfields = {};
  if (out.attachments === '[]') out.attachments = [];
  return JSON.stringify(out);
}

/** JSON whose scalars are all strings, as many PHP clients json_encode their form arrays. */
function stringJson(fields: Fields): string {
  return JSON.stringify(fields, (_key, value: unknown) =>
    typeof value === 'number' || typeof value === 'boolean' ? String(value) : value,
  );
}

const ENCODINGS: ReadonlyArray<[string, (fields: Fields) => Request]> = [
  [
    'urlencoded (PHP http_build_query)',
    (fields) => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: httpBuildQuery(fields),
    }),
  ],
  [
    'multipart with a boundary (browser FormData, the jQuery sample)',
    (fields) => ({ headers: { 'cache-control': 'no-cache' }, body: formData(fields) }),
  ],
  [
    'multipart/form-data without a boundary carrying an urlencoded body (Keliweb PHP)',
    (fields) => ({
      headers: { 'content-type': 'multipart/form-data', 'x-requested-with': 'XMLHttpRequest' },
      body: httpBuildQuery(fields),
    }),
  ],
  [
    'JSON with native types',
    (fields) => ({ headers: { 'content-type': 'application/json' }, body: nativeJson(fields) }),
  ],
  [
    'JSON with string values',
    (fields) => ({
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: stringJson(fields),
    }),
  ],
];

const ENDPOINTS: ReadonlyArray<[string, string, Fields]> = [
  ['/api/v2/add-ticket-reply', '/api/v2/add-ticket-reply', {}],
  [
    '/includes/api.php (action=AddTicketReply)',
    '/includes/api.php',
    { action: 'AddTicketReply', responsetype: 'json' },
  ],
];

async function send(
  path: string,
  token: string,
  request: Request,
  extra: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...request.headers, ...extra },
    body: request.body,
  });
  return answerOf(res);
}

interface ListedReply {
  replyid: string;
  userid: number;
  contactid: number;
  name: string;
  email: string;
  admin: string;
  message: string;
  editor: string;
}

/** The reply as get-ticket lists it (a staff token reaches every ticket). */
async function listedReply(ticketid: number, replyid: unknown): Promise<ListedReply | undefined> {
  const res = await fetch(`${stack.url}/api/v2/get-ticket?ticketid=${ticketid}`, {
    headers: { authorization: `Bearer ${stack.staffToken}` },
  });
  expect(res.status).toBe(200);
  const ticket = (await res.json()) as { replies: { reply: ListedReply[] } };
  return ticket.replies.reply.find((r) => r.replyid === replyid);
}

const bridgeToken = () => stack.token({ role: 'bridge', sub: 'bridge-encodings' });

/** Characters each encoding escapes differently: `+`, `&`, `%`, `=`, non-ASCII, CRLF. */
const TRICKY = 'Perché? 😀 a+b=c & 100% <ok>\r\nsecond line';

interface Seed {
  name: string;
  token: () => string;
  ticketid: () => number;
  fields: () => Fields;
  listed: () => Omit<ListedReply, 'replyid' | 'message'>;
}

const SEEDS: Seed[] = [
  {
    name: 'the Keliweb sample (ticketid, message, clientid, useMarkdown, customfields "[]", attachments "[]")',
    token: () => stack.clientToken,
    ticketid: () => stack.seed.ticketId,
    fields: () => ({
      ticketid: stack.seed.ticketId,
      message: `Keliweb **sample**: ${TRICKY}`,
      clientid: stack.seed.clientId,
      useMarkdown: true,
      customfields: '[]',
      attachments: '[]',
    }),
    listed: () => ({
      userid: stack.seed.clientId,
      contactid: 0,
      name: '',
      email: '',
      admin: '',
      editor: 'markdown',
    }),
  },
  {
    name: 'the WHMCS doc sample with customfields "W10=" (staff token)',
    token: () => stack.staffToken,
    ticketid: () => stack.seed.ticketId,
    fields: () => ({
      ticketid: stack.seed.ticketId,
      message: `This is a sample ticket reply. ${TRICKY}`,
      clientid: stack.seed.clientId,
      customfields: 'W10=',
      markdown: true,
    }),
    listed: () => ({
      userid: 0,
      contactid: 0,
      name: '',
      email: '',
      admin: 'Test Staff',
      editor: 'markdown',
    }),
  },
  {
    name: 'a staff reply under adminusername, plain text, noemail',
    token: () => stack.staffToken,
    ticketid: () => stack.seed.ticketId,
    fields: () => ({
      ticketid: stack.seed.ticketId,
      message: `Plain <b>staff</b> reply: ${TRICKY}`,
      adminusername: 'Jane Admin',
      markdown: false,
      noemail: true,
    }),
    listed: () => ({
      userid: 0,
      contactid: 0,
      name: '',
      email: '',
      admin: 'Jane Admin',
      editor: 'plain',
    }),
  },
  {
    name: 'a guest reply with name and email (bridge token)',
    token: bridgeToken,
    ticketid: () => stack.seed.guestTicketId,
    fields: () => ({
      ticketid: stack.seed.guestTicketId,
      message: `Guest reply: ${TRICKY}`,
      name: 'Gina Guest',
      email: 'gina@example.com',
    }),
    listed: () => ({
      userid: 0,
      contactid: 0,
      name: 'Gina Guest',
      email: 'gina@example.com',
      admin: '',
      editor: 'plain',
    }),
  },
  {
    name: "a contact's reply addressed by ticketnum (client token)",
    token: () => stack.clientToken,
    ticketid: () => stack.seed.ticketId,
    fields: () => ({
      ticketnum: stack.seed.ticketNum,
      message: `Contact reply: ${TRICKY}`,
      contactid: stack.seed.contactId,
      markdown: false,
    }),
    listed: () => ({
      userid: stack.seed.clientId,
      contactid: stack.seed.contactId,
      name: '',
      email: '',
      admin: '',
      editor: 'plain',
    }),
  },
];

const CASES = SEEDS.flatMap((seed) =>
  ENCODINGS.flatMap(([encoding, encode]) =>
    ENDPOINTS.map(
      ([endpoint, path, endpointFields]) =>
        [seed.name, encoding, endpoint, { seed, encode, path, endpointFields }] as const,
    ),
  ),
);

describe('every encoding to every endpoint', () => {
  it.each(CASES)(
    'stores %s sent as %s to %s, as get-ticket shows',
    async (_seed, _encoding, _endpoint, { seed, encode, path, endpointFields }) => {
      const fields = seed.fields();
      const answer = await send(path, seed.token(), encode({ ...endpointFields, ...fields }), {
        prefer: 'wait=10',
      });

      expect(answer.body).toEqual({
        result: 'success',
        replyid: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
        ticketid: seed.ticketid(),
        status: 'persisted',
      });
      expect(answer.status).toBe(200);
      expect(await listedReply(seed.ticketid(), answer.body.replyid)).toEqual({
        replyid: answer.body.replyid,
        message: fields.message,
        ...seed.listed(),
        date: expect.any(String) as unknown,
        messagehtml: expect.any(String) as unknown,
        attachments: [],
      });
    },
  );
});

describe('PHP nested names and custom fields', () => {
  /** Field 1 of the seeded department: free text, so the seed's `[1 => "Google"]` fits. */
  const REFERRER = 1;

  async function ticketCustomFields(ticketid: number): Promise<unknown> {
    const res = await fetch(`${stack.url}/api/v2/get-ticket?ticketid=${ticketid}`, {
      headers: { authorization: `Bearer ${stack.staffToken}` },
    });
    return ((await res.json()) as { customfields: unknown }).customfields;
  }

  it('has field 1 as the free-text field the samples write to', async () => {
    const field = (await stack.database
      .db('custom_fields')
      .where({ id: REFERRER })
      .first<{ name: string; type: string } | undefined>('name', 'type'))!;
    expect(field).toEqual({ name: 'Referrer', type: 'text' });
  });

  it.each(ENCODINGS)(
    'stores customfields[1]=… as the value of custom field 1 (%s)',
    async (encoding, encode) => {
      const value = `Google via ${encoding}`;
      const answer = await send(
        '/api/v2/add-ticket-reply',
        stack.clientToken,
        encode({
          ticketid: stack.seed.ticketId,
          message: 'nested custom field',
          customfields: { [REFERRER]: value },
        }),
        { prefer: 'wait=10' },
      );
      // The whole body, so a refusal shows its message.
      expect(answer.body).toEqual({
        result: 'success',
        replyid: expect.any(String) as unknown,
        ticketid: stack.seed.ticketId,
        status: 'persisted',
      });
      expect(await ticketCustomFields(stack.seed.ticketId)).toEqual(
        expect.arrayContaining([{ id: REFERRER, name: 'Referrer', value }]) as unknown,
      );
    },
  );

  /** PHP serialize() of an array of int keys to strings; `s:N` counts UTF-8 bytes. */
  function phpSerialize(values: Record<number, string>): string {
    const entries = Object.entries(values).map(
      ([key, value]) => `i:${key};s:${Buffer.byteLength(value)}:"${value}";`,
    );
    return `a:${entries.length}:{${entries.join('')}}`;
  }

  it('reads the WHMCS doc sample YToxOntpOjE7czo2OiJHb29nbGUiO30= as [1 => "Google"]', () => {
    expect(Buffer.from(phpSerialize({ 1: 'Google' })).toString('base64')).toBe(
      'YToxOntpOjE7czo2OiJHb29nbGUiO30=',
    );
  });

  it.each(
    ENCODINGS.flatMap(([encoding, encode]) =>
      ENDPOINTS.map(
        ([endpoint, path, endpointFields]) =>
          [encoding, endpoint, encode, path, endpointFields] as const,
      ),
    ),
  )(
    'stores the WHMCS doc sample customfields = base64(serialize([1 => …])) sent as %s to %s',
    async (encoding, endpoint, encode, path, endpointFields) => {
      const value = `Google – ${encoding} – ${endpoint}`;
      const answer = await send(
        path,
        stack.staffToken,
        encode({
          ...endpointFields,
          ticketid: stack.seed.otherTicketId,
          message: 'This is a sample ticket reply',
          clientid: stack.seed.otherClientId,
          customfields: Buffer.from(phpSerialize({ [REFERRER]: value })).toString('base64'),
          markdown: true,
        }),
        { prefer: 'wait=10' },
      );
      expect(answer.body).toMatchObject({ result: 'success', status: 'persisted' });
      expect(await ticketCustomFields(stack.seed.otherTicketId)).toEqual([
        { id: REFERRER, name: 'Referrer', value },
      ]);
    },
  );

  it.each(ENCODINGS)(
    'reads attachments[0][name] and attachments[0][data] as one attachment (%s)',
    async (_encoding, encode) => {
      const answer = await send(
        '/api/v2/add-ticket-reply',
        stack.clientToken,
        encode({
          ticketid: stack.seed.ticketId,
          message: 'nested',
          attachments: [{ name: 'a.txt', data: 'aGk=' }],
        }),
        { prefer: 'wait=10' },
      );
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ result: 'success', status: 'persisted' });
      // Stored as exactly one attachment, a.txt holding "hi", not dropped or split.
      expect(await listedReply(stack.seed.ticketId, answer.body.replyid)).toMatchObject({
        message: 'nested',
        attachments: [{ filename: 'a.txt', index: 0 }],
      });
      const query = new URLSearchParams({
        relatedid: String(answer.body.replyid),
        type: 'reply',
        index: '0',
      });
      const file = await fetch(`${stack.url}/api/v2/get-ticket-attachment?${query.toString()}`, {
        headers: { authorization: `Bearer ${stack.clientToken}` },
      });
      expect(await file.json()).toMatchObject({
        result: 'success',
        filename: expect.stringMatching(/^\d{6}_a\.txt$/) as unknown,
        data: 'aGk=',
      });
    },
  );

  it.each(ENCODINGS)(
    'names an unknown nested parameter by its base name in warnings (%s)',
    async (_encoding, encode) => {
      const answer = await send(
        '/api/v2/add-ticket-reply',
        stack.clientToken,
        encode({
          ticketid: stack.seed.ticketId,
          message: 'with options',
          options: { notify: { email: 'yes' } },
        }),
      );
      expect(answer.status).toBe(200);
      expect(answer.body.warnings).toEqual(['Unknown parameter "options" was ignored']);
    },
  );
});

describe('unknown parameters', () => {
  /** Built with JSON.parse so "__proto__" is an own key, as a hostile client would send it. */
  const hostile = (): Fields =>
    JSON.parse(
      JSON.stringify({
        ticketid: stack.seed.ticketId,
        message: 'hostile names',
      }).replace(
        /}$/,
        ',"__proto__":{"admin":"1"},"constructor":{"prototype":{"polluted":"1"}},"useMarkdwn":"1"}',
      ),
    ) as Fields;

  it.each(ENCODINGS)(
    'lists __proto__, constructor and the typo useMarkdwn in warnings and pollutes no prototype (%s)',
    async (_encoding, encode) => {
      const fields = hostile();
      expect(Object.keys(fields)).toContain('__proto__');
      const answer = await send('/api/v2/add-ticket-reply', stack.clientToken, encode(fields), {
        prefer: 'wait=10',
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ result: 'success', status: 'persisted' });
      expect(answer.body.warnings).toEqual([
        'Unknown parameter "__proto__" was ignored',
        'Unknown parameter "constructor" was ignored',
        'Unknown parameter "useMarkdwn" was ignored',
      ]);
      // The typo is ignored, not read as useMarkdown: the reply is plain text.
      expect(await listedReply(stack.seed.ticketId, answer.body.replyid)).toMatchObject({
        editor: 'plain',
        admin: '',
        userid: stack.seed.clientId,
      });
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('admin');
      expect(Object.prototype).not.toHaveProperty('polluted');
    },
  );

  it('does not warn about the WHMCS transport fields on /includes/api.php', async () => {
    const answer = await send(
      '/includes/api.php',
      stack.staffToken,
      ENCODINGS[0]![1]({
        action: 'AddTicketReply',
        responsetype: 'json',
        identifier: 'id',
        secret: 'secret',
        accesskey: 'key',
        ticketid: stack.seed.ticketId,
        message: 'transport fields',
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      result: 'success',
      replyid: expect.any(String) as unknown,
      ticketid: stack.seed.ticketId,
      status: 'queued',
    });
  });
});

describe('choosing the ticket', () => {
  it('reaches a ticket by ticketnum alone', async () => {
    const answer = await send(
      '/api/v2/add-ticket-reply',
      stack.staffToken,
      ENCODINGS[0]![1]({ ticketnum: 'OTHER-1', message: 'by number' }),
      { prefer: 'wait=10' },
    );
    expect(answer.body).toMatchObject({
      result: 'success',
      ticketid: stack.seed.otherTicketId,
      status: 'persisted',
    });
    expect(await listedReply(stack.seed.otherTicketId, answer.body.replyid)).toMatchObject({
      message: 'by number',
    });
  });

  it.each(ENCODINGS)(
    'lets ticketid win when ticketid and ticketnum name different tickets (%s)',
    async (_encoding, encode) => {
      const answer = await send(
        '/api/v2/add-ticket-reply',
        stack.staffToken,
        encode({ ticketnum: 'OTHER-1', ticketid: stack.seed.ticketId, message: 'both sent' }),
        { prefer: 'wait=10' },
      );
      expect(answer.body).toMatchObject({
        result: 'success',
        ticketid: stack.seed.ticketId,
        status: 'persisted',
      });
      expect(answer.body.warnings).toBeUndefined();
      expect(await listedReply(stack.seed.ticketId, answer.body.replyid)).toBeDefined();
      expect(await listedReply(stack.seed.otherTicketId, answer.body.replyid)).toBeUndefined();
    },
  );
});

describe('the message "0"', () => {
  it.each(ENCODINGS)('accepts "0" as a message (%s)', async (_encoding, encode) => {
    const answer = await send(
      '/api/v2/add-ticket-reply',
      stack.clientToken,
      encode({ ticketid: stack.seed.ticketId, message: '0' }),
      { prefer: 'wait=10' },
    );
    expect(answer.body).toMatchObject({ result: 'success', status: 'persisted' });
    expect(await listedReply(stack.seed.ticketId, answer.body.replyid)).toMatchObject({
      message: '0',
    });
  });

  it('accepts the JSON number 0 as the message "0"', async () => {
    const answer = await send(
      '/api/v2/add-ticket-reply',
      stack.clientToken,
      {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ticketid: stack.seed.ticketId, message: 0 }),
      },
      { prefer: 'wait=10' },
    );
    expect(answer.body).toMatchObject({ result: 'success', status: 'persisted' });
    expect(await listedReply(stack.seed.ticketId, answer.body.replyid)).toMatchObject({
      message: '0',
    });
  });
});

describe('bodies that are not form, multipart or JSON', () => {
  it('answers 415 with the exact message to text/plain, and stores nothing', async () => {
    const before = await countReplies(stack);
    const jobsBefore = await countJobs(stack);
    const answer = await send('/api/v2/add-ticket-reply', stack.clientToken, {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: `ticketid=${stack.seed.ticketId}&message=hello`,
    });
    expect(answer.status).toBe(415);
    expect(answer.body).toEqual({
      result: 'error',
      message: 'Unsupported Content-Type "text/plain"; send form, multipart or JSON',
      code: 'unsupported_content_type',
    });
    // The worker stores asynchronously: a wrongly enqueued job shows in the queue at once.
    expect(await countJobs(stack)).toBe(jobsBefore);
    expect(await countReplies(stack)).toBe(before);
  });

  it('answers text/plain on /includes/api.php with HTTP 200 and result=error, as WHMCS does', async () => {
    const answer = await send('/includes/api.php', stack.clientToken, {
      headers: { 'content-type': 'text/plain' },
      body: `action=AddTicketReply&ticketid=${stack.seed.ticketId}&message=hello`,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      result: 'error',
      message: 'Unsupported Content-Type "text/plain"; send form, multipart or JSON',
      code: 'unsupported_content_type',
    });
  });

  it('answers malformed JSON with 400 malformed_body', async () => {
    const before = await countReplies(stack);
    const jobsBefore = await countJobs(stack);
    const answer = await send('/api/v2/add-ticket-reply', stack.clientToken, {
      headers: { 'content-type': 'application/json' },
      body: `{"ticketid": ${stack.seed.ticketId}, "message": "unterminated`,
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ result: 'error', code: 'malformed_body' });
    expect(answer.body.message).toMatch(/^Malformed request body: invalid JSON/);
    expect(await countJobs(stack)).toBe(jobsBefore);
    expect(await countReplies(stack)).toBe(before);
  });

  it('answers a JSON array instead of an object with 400 malformed_body', async () => {
    const answer = await send('/api/v2/add-ticket-reply', stack.clientToken, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ ticketid: stack.seed.ticketId, message: 'x' }]),
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      result: 'error',
      message: 'Malformed request body: the JSON body must be an object',
      code: 'malformed_body',
    });
  });
});
