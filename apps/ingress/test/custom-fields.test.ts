import { serialize } from 'php-serialize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyJobId } from '@ticketflow/contract';
import { bridgeJob, enqueueDirectly } from './bridge-jobs.ts';
import { startStack, type TestStack } from './stack.ts';
import { countJobs, countReplies } from './stack-counts.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
});

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
/** PHP's `base64_encode(serialize(array(1 => "Google")))`, the WHMCS documentation sample. */
const WHMCS_SAMPLE = 'YToxOntpOjE7czo2OiJHb29nbGUiO30=';

type Fields = Array<{ id: number; name: string; value: string }>;

async function post(body: string | FormData, contentType?: string, token = stack.clientToken) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, prefer: 'wait=10' };
  if (contentType) headers['content-type'] = contentType;
  const res = await fetch(`${stack.url}/api/v2/add-ticket-reply`, {
    method: 'POST',
    headers,
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function ticketFields(ticketId = stack.seed.ticketId): Promise<Fields> {
  const res = await fetch(`${stack.url}/api/v2/get-ticket?ticketid=${ticketId}`, {
    headers: { authorization: `Bearer ${stack.staffToken}` },
  });
  return ((await res.json()) as { customfields: Fields }).customfields;
}

async function counts() {
  return { replies: await countReplies(stack), jobs: await countJobs(stack) };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const URLENCODED = 'application/x-www-form-urlencoded';

describe('custom fields in every shape', () => {
  it('stores the WHMCS sample (base64 of PHP serialize) on the ticket', async () => {
    const res = await post(
      form({
        ticketid: String(stack.seed.ticketId),
        message: 'sample',
        customfields: WHMCS_SAMPLE,
      }),
      URLENCODED,
    );
    expect(res).toMatchObject({ status: 200, body: { status: 'persisted' } });
    expect(await ticketFields()).toContainEqual({ id: 1, name: 'Referrer', value: 'Google' });
  });

  it('reads PHP form arrays by id and by field name', async () => {
    const body =
      `ticketid=${stack.seed.ticketId}&message=form&customfields%5B1%5D=Newsletter` +
      `&customfields%5BPlan%5D=Business&customfields%5BUrgent%5D=on`;
    expect((await post(body, URLENCODED)).status).toBe(200);
    expect(await ticketFields()).toEqual([
      { id: 1, name: 'Referrer', value: 'Newsletter' },
      { id: 2, name: 'Plan', value: 'Business' },
      { id: 3, name: 'Urgent', value: 'on' },
    ]);
  });

  it('reads a JSON object in a JSON body, and base64 of JSON in a multipart form', async () => {
    const json = JSON.stringify({
      ticketid: stack.seed.ticketId,
      message: 'json',
      customfields: { Referrer: 'Search', '2': 'Enterprise' },
    });
    expect((await post(json, 'application/json')).status).toBe(200);
    expect(await ticketFields()).toContainEqual({ id: 2, name: 'Plan', value: 'Enterprise' });

    const multipart = new FormData();
    multipart.set('ticketid', String(stack.seed.ticketId));
    multipart.set('message', 'multipart');
    multipart.set('customfields', b64(JSON.stringify({ '1': 'Partner' })));
    expect((await post(multipart)).status).toBe(200);
    expect(await ticketFields()).toContainEqual({ id: 1, name: 'Referrer', value: 'Partner' });
  });

  it('keeps multibyte UTF-8 values byte for byte through PHP serialization', async () => {
    const value = 'Café über straße 日本語 🎉';
    const encoded = Buffer.from(serialize(new Map([[1, value]]))).toString('base64');
    const res = await post(
      form({ ticketid: String(stack.seed.ticketId), message: 'utf8', customfields: encoded }),
      URLENCODED,
    );
    expect(res.status).toBe(200);
    expect(await ticketFields()).toContainEqual({ id: 1, name: 'Referrer', value });
  });
});

describe('custom fields that are refused', () => {
  const refused: Array<[string, string, RegExp]> = [
    [
      'an unknown field id',
      b64('a:1:{i:7;s:1:"x";}'),
      /^Custom field 7 does not exist for this ticket's department$/,
    ],
    [
      'an object injection payload',
      b64('a:1:{i:1;O:8:"stdClass":0:{}}'),
      /objects are not accepted/,
    ],
    ['a top-level object', b64('O:8:"stdClass":1:{s:1:"a";s:1:"b";}'), /objects are not accepted/],
    ['a reference', b64('a:2:{i:1;s:1:"x";i:2;R:2;}'), /references are not accepted/],
    ['a nested array', b64('a:1:{i:1;a:1:{i:0;s:1:"x";}}'), /nested arrays are not accepted/],
    ['a length counted in characters', b64('a:1:{i:1;s:4:"Café";}'), /counts UTF-8 bytes/],
    ['trailing garbage', b64('a:1:{i:1;s:1:"x";}tail'), /unexpected data after the array/],
    [
      'a dropdown value outside its options',
      b64(JSON.stringify({ Plan: 'Gold' })),
      /"Gold" is not one of Starter, Business, Enterprise/,
    ],
    ['a tickbox that is not on', b64(JSON.stringify({ Urgent: 'yes' })), /a tickbox takes "on"/],
    ['a __proto__ key', b64(JSON.stringify({ ['__proto__']: 'x' })), /"__proto__" does not exist/],
    ['invalid base64', 'not*base64', /not valid base64/],
  ];

  it.each(refused)(
    'refuses %s with 400 and writes nothing',
    async (_name, customfields, message) => {
      const before = await counts();
      const res = await post(
        form({ ticketid: String(stack.seed.ticketId), message: 'refused', customfields }),
        URLENCODED,
      );
      expect(res.status).toBe(400);
      expect(res.body.result).toBe('error');
      expect(String(res.body.message)).toMatch(message);
      expect(await counts()).toEqual(before);
    },
  );

  it('refuses a JSON body whose __proto__ key would pollute a prototype', async () => {
    const before = await counts();
    const res = await post(
      `{"ticketid":${stack.seed.ticketId},"message":"m","customfields":{"__proto__":{"polluted":1}}}`,
      'application/json',
    );
    expect(res.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await counts()).toEqual(before);
  });
});

describe('custom fields from producers that enqueue directly', () => {
  it('resolves field names in the worker and upserts once however often the job runs', async () => {
    const data = bridgeJob(stack, { customfields: [{ field: 'Plan', value: 'Starter' }] });
    const first = await enqueueDirectly(stack, data);
    const again = await enqueueDirectly(stack, data, `${replyJobId(data.replyid)}-again`);
    await expect.poll(() => first.getState(), { timeout: 10_000 }).toBe('completed');
    await expect.poll(() => again.getState(), { timeout: 10_000 }).toBe('completed');
    expect(await ticketFields()).toContainEqual({ id: 2, name: 'Plan', value: 'Starter' });
    const rows = await stack.database.db('ticket_replies').where({ dedupe_key: data.dedupeKey });
    expect(rows).toHaveLength(1);
  });

  it('dead-letters a job whose custom field the department does not have', async () => {
    const data = bridgeJob(stack, { customfields: [{ field: 99, value: 'x' }] });
    const job = await enqueueDirectly(stack, data);
    await expect.poll(() => job.getState(), { timeout: 10_000 }).toBe('failed');
    await expect
      .poll(() => stack.database.db('dead_letters').where({ job_id: job.id }).first('error'), {
        timeout: 5000,
      })
      .toMatchObject({ error: "Custom field 99 does not exist for this ticket's department" });
    expect(
      await stack.database.db('ticket_replies').where({ dedupe_key: data.dedupeKey }),
    ).toHaveLength(0);
  });
});
