import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyJobId, type ReplyJob } from '@ticketflow/contract';
import { createPgBlobStore } from '@ticketflow/db';
import { bridgeJob, enqueueDirectly } from './bridge-jobs.ts';
import { startStack, type TestStack } from './stack.ts';
import { countJobs, countReplies } from './stack-counts.ts';

/**
 * Attachments end to end (API.md §3 limits, §6 shapes and names, §9 job contract): every shape
 * a client sends, over a real socket, read back byte for byte through get-ticket-attachment;
 * every refusal with its contract error, no chunk of the refused upload left behind, and no
 * blob either once the sweeper has run.
 */

/** Replies within a minute go well past the per-ticket rate limit; it has its own tests. */
const MANY_REQUESTS = {
  TICKETFLOW_RATE_LIMIT_PER_TICKET: '100000',
  TICKETFLOW_RATE_LIMIT_PER_PRINCIPAL: '100000',
};
/** Small limits, so one byte over is a small request. */
const SMALL_LIMITS = {
  ...MANY_REQUESTS,
  TICKETFLOW_MAX_ATTACHMENT_BYTES: '1024',
  TICKETFLOW_MAX_ATTACHMENTS_TOTAL_BYTES: '2048',
};

let stack: TestStack;
let small: TestStack;
beforeAll(async () => {
  [stack, small] = await Promise.all([
    startStack({ env: MANY_REQUESTS }),
    startStack({ env: SMALL_LIMITS }),
  ]);
});
afterAll(async () => {
  await Promise.all([stack?.close(), small?.close()]);
});

/** Every byte value once, in order: what a text-minded decoder would mangle. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const PDF = Buffer.concat([
  Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1'),
  randomBytes(700),
]);
const UTF8_NAME = 'résumé 日本.pdf';

interface File {
  name: string;
  bytes: Buffer;
}
/** The two files most shapes send: binary with every byte value, and a multibyte UTF-8 name. */
const FILES: readonly File[] = [
  { name: 'all-bytes.pdf', bytes: ALL_BYTES },
  { name: UTF8_NAME, bytes: PDF },
];

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');
/** PHP chunk_split(base64_encode(…)): CRLF every 76 characters. */
const chunkSplit = (text: string) => text.replace(/.{76}/g, '$&\r\n');
const jsonItems = (files: readonly File[], encode = b64) =>
  files.map((f) => ({ name: f.name, data: encode(f.bytes) }));
/** base64 of the JSON array of `{name, data}`: the shape WHMCS documents. */
const base64List = (files: readonly File[]) => b64(JSON.stringify(jsonItems(files)));
/** Random bytes of `size`, so no two tests share a blob by accident. */
const fileOf = (name: string, size: number): File => ({ name, bytes: randomBytes(size) });

const URLENCODED = 'application/x-www-form-urlencoded';
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function post(
  body: string | FormData,
  contentType?: string,
  options: { on?: TestStack; wait?: boolean } = {},
): Promise<Answer> {
  const on = options.on ?? stack;
  const headers: Record<string, string> = { authorization: `Bearer ${on.clientToken}` };
  if (options.wait !== false) headers.prefer = 'wait=10';
  if (contentType) headers['content-type'] = contentType;
  const res = await fetch(`${on.url}/api/v2/add-ticket-reply`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A multipart form with the reply's text fields first, as browsers and PHP curl send them. */
function multipart(on = stack): FormData {
  const data = new FormData();
  data.append('ticketid', String(on.seed.ticketId));
  data.append('message', 'with files');
  return data;
}
const addFile = (data: FormData, field: string, file: File) =>
  data.append(field, new Blob([file.bytes]), file.name);

/** The reply's `attachments` as get-ticket lists them. */
async function listed(replyid: string, on = stack) {
  const res = await fetch(`${on.url}/api/v2/get-ticket?ticketid=${on.seed.ticketId}`, {
    headers: { authorization: `Bearer ${on.staffToken}` },
  });
  const body = (await res.json()) as {
    replies: { reply: Array<{ replyid: string; attachments: unknown[] }> };
  };
  return body.replies.reply.find((r) => r.replyid === replyid)?.attachments;
}

async function attachment(replyid: string, index: number, on = stack) {
  const query = new URLSearchParams({ relatedid: replyid, type: 'reply', index: String(index) });
  const res = await fetch(`${on.url}/api/v2/get-ticket-attachment?${query.toString()}`, {
    headers: { authorization: `Bearer ${on.clientToken}` },
  });
  const body = (await res.json()) as { result: string; filename: string; data: string };
  return { status: res.status, ...body };
}

/**
 * Asserts the reply was persisted with exactly `files`, in order: get-ticket lists the display
 * names, get-ticket-attachment answers `NNNNNN_<name>` and the very bytes sent.
 */
async function expectStored(answer: Answer, files: readonly File[], on = stack) {
  expect(answer).toMatchObject({ status: 200, body: { result: 'success', status: 'persisted' } });
  const replyid = String(answer.body.replyid);
  expect(await listed(replyid, on)).toEqual(files.map((f, index) => ({ filename: f.name, index })));
  for (const [index, file] of files.entries()) {
    const got = await attachment(replyid, index, on);
    expect(got.result).toBe('success');
    expect(got.filename.slice(7)).toBe(file.name);
    expect(got.filename).toMatch(/^\d{6}_/);
    expect(sha256(Buffer.from(got.data, 'base64'))).toBe(sha256(file.bytes));
  }
}

async function counts(on = stack) {
  return { replies: await countReplies(on), jobs: await countJobs(on) };
}

/** Blobs no reply references and chunks no blob owns: what a refusal must not leave behind. */
async function leftovers(on = stack) {
  const db = on.database.db;
  const [blobs] = (await db('attachment_blobs as b')
    .whereNotExists(db('reply_attachments as r').whereRaw('r.sha256 = b.sha256'))
    .count({ n: '*' })) as [{ n: string }];
  const [chunks] = (await db('attachment_chunks as c')
    .whereNotExists(db('attachment_blobs as b').whereRaw('b.upload_id = c.upload_id'))
    .count({ n: '*' })) as [{ n: string }];
  return { blobs: Number(blobs.n), chunks: Number(chunks.n) };
}

/**
 * Asserts the contract's error, and that no reply, no job and no chunk of an upload cut short
 * remain before any sweep (the refused request cleans those up itself), nor (after a sweep) any
 * blob: staged blobs are never deleted in place, identical bytes may serve another reply.
 */
async function expectRefused(
  answer: Answer,
  before: Awaited<ReturnType<typeof counts>>,
  expected: { status: number; code: string; message: string | RegExp },
  on = stack,
) {
  expect(answer.status).toBe(expected.status);
  expect(answer.body).toMatchObject({ result: 'error', code: expected.code });
  if (typeof expected.message === 'string') expect(answer.body.message).toBe(expected.message);
  else expect(String(answer.body.message)).toMatch(expected.message);
  expect(await counts(on)).toEqual(before);
  // No sweep first: the cleanup runs as the answer goes out, so poll briefly, but chunks that
  // only the sweeper would remove fail this. Earlier refusals' were swept by the call below.
  await expect
    .poll(async () => (await leftovers(on)).chunks, { timeout: 2000, interval: 50 })
    .toBe(0);
  const blobs = createPgBlobStore(on.database.db);
  // created_at is PostgreSQL's clock and the cutoff Node's: poll rather than trust one instant.
  await expect
    .poll(
      async () => {
        await blobs.sweep(0);
        return leftovers(on);
      },
      { timeout: 5000, interval: 50 },
    )
    .toEqual({ blobs: 0, chunks: 0 });
}

describe('every shape of API.md §6, read back byte for byte', () => {
  const ticketid = () => String(stack.seed.ticketId);

  it('stores base64 of a JSON array of {name, data} sent urlencoded', async () => {
    const res = await post(
      form({ ticketid: ticketid(), message: 'b64', attachments: base64List(FILES) }),
      URLENCODED,
    );
    await expectStored(res, FILES);
  });

  it('stores base64 of a JSON array sent as a multipart text field', async () => {
    const data = multipart();
    data.append('attachments', base64List(FILES));
    await expectStored(await post(data), FILES);
  });

  it('stores a JSON array of {name, data} in a JSON body', async () => {
    const body = JSON.stringify({
      ticketid: stack.seed.ticketId,
      message: 'json',
      attachments: jsonItems(FILES),
    });
    await expectStored(await post(body, 'application/json'), FILES);
  });

  /** `attachments[N][name]=…&attachments[N][data]=…`, as PHP http_build_query writes it. */
  const phpArrays = (files: readonly File[], first: number) =>
    files
      .map((f, i) => {
        const n = first + i;
        return (
          `${encodeURIComponent(`attachments[${n}][name]`)}=${encodeURIComponent(f.name)}&` +
          `${encodeURIComponent(`attachments[${n}][data]`)}=${encodeURIComponent(b64(f.bytes))}`
        );
      })
      .join('&');

  it('stores PHP form arrays attachments[0][name]=…&attachments[0][data]=…', async () => {
    const body = `ticketid=${ticketid()}&message=php&${phpArrays(FILES, 0)}`;
    await expectStored(await post(body, URLENCODED), FILES);
  });

  it('stores PHP form arrays counted from 1 (attachments[1][name]=…)', async () => {
    const body = `ticketid=${ticketid()}&message=php&${phpArrays(FILES, 1)}`;
    await expectStored(await post(body, URLENCODED), FILES);
  });

  it('stores PHP form arrays under multipart/form-data without a boundary (the Keliweb samples)', async () => {
    const body = `ticketid=${ticketid()}&message=keliweb&${phpArrays(FILES, 0)}`;
    await expectStored(await post(body, 'multipart/form-data'), FILES);
  });

  it('stores PHP form arrays sent as multipart text fields', async () => {
    const data = multipart();
    for (const [i, f] of FILES.entries()) {
      data.append(`attachments[${i}][name]`, f.name);
      data.append(`attachments[${i}][data]`, b64(f.bytes));
    }
    await expectStored(await post(data), FILES);
  });

  it('stores data and the list in the URL-safe base64 alphabet, unpadded', async () => {
    const list = Buffer.from(JSON.stringify(jsonItems(FILES, (b) => b.toString('base64url'))));
    expect(ALL_BYTES.toString('base64url')).toMatch(/[-_]/);
    const res = await post(
      form({ ticketid: ticketid(), message: 'url-safe', attachments: list.toString('base64url') }),
      URLENCODED,
    );
    await expectStored(res, FILES);
  });

  it('stores base64 with line breaks (PHP chunk_split) in the data and in the list', async () => {
    const list = chunkSplit(b64(JSON.stringify(jsonItems(FILES, (b) => chunkSplit(b64(b))))));
    expect(list).toContain('\r\n');
    const res = await post(
      form({ ticketid: ticketid(), message: 'wrapped', attachments: list }),
      URLENCODED,
    );
    await expectStored(res, FILES);
  });

  it.each(['attachments', 'attachments[]', 'attachments[3]'])(
    'stores real file parts named %s, as FormData sends them',
    async (field) => {
      const data = multipart();
      for (const file of FILES) addFile(data, field, file);
      await expectStored(await post(data), FILES);
    },
  );

  it('stores several file parts and text attachments of one request, file parts first', async () => {
    const files = [fileOf('one.pdf', 3000), fileOf('two.png', 10), fileOf('three.txt', 1)];
    const text = [fileOf('four.pdf', 500), { name: UTF8_NAME, bytes: ALL_BYTES }];
    const data = multipart();
    data.append('markdown', 'true');
    for (const file of files) addFile(data, 'attachments[]', file);
    data.append('attachments', base64List(text));
    data.append('noemail', '1');
    await expectStored(await post(data), [...files, ...text]);
  });

  it.each(['[]', 'W10=', ''])('keeps the file parts sent next to attachments=%j', async (empty) => {
    const data = multipart();
    data.append('attachments', empty);
    for (const file of FILES) addFile(data, 'attachments[]', file);
    await expectStored(await post(data), FILES);
  });

  it.each(['', '[]', 'W10='])('reads attachments=%j as no attachments', async (empty) => {
    const res = await post(
      form({ ticketid: ticketid(), message: 'none', attachments: empty }),
      URLENCODED,
    );
    await expectStored(res, []);
  });

  it('reads an empty JSON array as no attachments', async () => {
    const body = JSON.stringify({
      ticketid: stack.seed.ticketId,
      message: 'none',
      attachments: [],
    });
    await expectStored(await post(body, 'application/json'), []);
  });

  it('stores identical bytes sent twice once, referenced by both replies', async () => {
    const file = fileOf('same.pdf', 2048);
    const first = await post(
      form({ ticketid: ticketid(), message: 'one', attachments: base64List([file]) }),
      URLENCODED,
    );
    const data = multipart();
    addFile(data, 'attachments', { ...file, name: 'copy.pdf' });
    const second = await post(data);
    await expectStored(first, [file]);
    await expectStored(second, [{ ...file, name: 'copy.pdf' }]);
    const db = stack.database.db;
    expect(await db('attachment_blobs').where({ sha256: sha256(file.bytes) })).toHaveLength(1);
    expect(await db('reply_attachments').where({ sha256: sha256(file.bytes) })).toHaveLength(2);
  });

  it('sniffs the content type from the bytes, not from the name', async () => {
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
      'base64',
    );
    const res = await post(
      JSON.stringify({
        ticketid: stack.seed.ticketId,
        message: 'sniff',
        attachments: [
          { name: 'really-a-png.pdf', data: b64(png) },
          { name: 'doc.txt', data: b64(PDF) },
        ],
      }),
      'application/json',
    );
    expect(res.status).toBe(200);
    const types = await stack.database
      .db('attachment_blobs')
      .whereIn('sha256', [sha256(png), sha256(PDF)])
      .select('sha256', 'content_type');
    expect(
      Object.fromEntries(
        types.map((t: { sha256: string; content_type: string }) => [t.sha256, t.content_type]),
      ),
    ).toEqual({
      [sha256(png)]: 'image/png',
      [sha256(PDF)]: 'application/pdf',
    });
  });
});

describe('hostile names that are accepted under a safe name', () => {
  it.each([
    ['path traversal ../../etc/passwd.txt', '../../etc/passwd.txt', 'passwd.txt'],
    ['Windows path traversal ..\\..\\x.png', '..\\..\\x.png', 'x.png'],
    ['an absolute path /etc/cron.d/job.txt', '/etc/cron.d/job.txt', 'job.txt'],
    ['a NUL in the name (a\\u0000b.txt)', 'a\u0000b.txt', 'ab.txt'],
    ['control characters in the name', 'a\u0007\t\r\nb\u001b.txt', 'ab.txt'],
    ['x.php.txt, a .txt file: only the last extension counts', 'x.php.txt', 'x.php.txt'],
    [
      'x.php\\u0000.txt, whose NUL once truncated C strings to x.php',
      'x.php\u0000.txt',
      'x.php.txt',
    ],
  ])('stores %s under its base name', async (_label, raw, stored) => {
    const file = fileOf(raw, 64);
    const res = await post(
      JSON.stringify({
        ticketid: stack.seed.ticketId,
        message: 'hostile name',
        attachments: jsonItems([file]),
      }),
      'application/json',
    );
    await expectStored(res, [{ name: stored, bytes: file.bytes }]);
  });

  it('stores a file part named ../../etc/passwd.txt under passwd.txt', async () => {
    const file = fileOf('../../etc/passwd.txt', 64);
    const data = multipart();
    addFile(data, 'attachments[]', file);
    await expectStored(await post(data), [{ name: 'passwd.txt', bytes: file.bytes }]);
  });

  it('stores a file part named ..\\..\\x.png under x.png', async () => {
    const file = fileOf('..\\..\\x.png', 64);
    const data = multipart();
    addFile(data, 'attachments[]', file);
    await expectStored(await post(data), [{ name: 'x.png', bytes: file.bytes }]);
  });

  it('stores a 300-character name capped at 255 characters, extension kept', async () => {
    const file = fileOf(`${'b'.repeat(300)}.pdf`, 64);
    const res = await post(
      JSON.stringify({
        ticketid: stack.seed.ticketId,
        message: 'long name',
        attachments: jsonItems([file]),
      }),
      'application/json',
    );
    expect(res.body.status).toBe('persisted');
    const names = (await listed(String(res.body.replyid))) as Array<{ filename: string }>;
    expect(names[0]!.filename).toHaveLength(255);
    expect(names[0]!.filename).toMatch(/^b+\.pdf$/);
  });
});

describe('attachments that are refused, leaving nothing behind', () => {
  const jsonBody = (attachments: unknown) =>
    JSON.stringify({ ticketid: stack.seed.ticketId, message: 'refused', attachments });
  const one = (name: string) => [{ name, data: b64('hello') }];

  it.each<[string, unknown, number, string, string]>([
    [
      'x.php (never allowed)',
      one('x.php'),
      400,
      'invalid_attachment',
      'Attachment 1 ("x.php"): extension .php is never allowed',
    ],
    [
      'x.PhP (extensions match whatever their case)',
      one('x.PhP'),
      400,
      'invalid_attachment',
      'Attachment 1 ("x.PhP"): extension .php is never allowed',
    ],
    [
      'x.txt.php (the last extension counts)',
      one('x.txt.php'),
      400,
      'invalid_attachment',
      'Attachment 1 ("x.txt.php"): extension .php is never allowed',
    ],
    [
      '.htaccess (a leading dot)',
      one('.htaccess'),
      400,
      'invalid_attachment',
      'Attachment 1 (".htaccess"): names may not start with a dot',
    ],
    [
      'the dotfile .env.txt',
      one('.env.txt'),
      400,
      'invalid_attachment',
      'Attachment 1 (".env.txt"): names may not start with a dot',
    ],
    [
      'x.exe (outside the allow-list)',
      one('x.exe'),
      400,
      'invalid_attachment',
      'Attachment 1 ("x.exe"): extension .exe is not allowed (allowed: .jpg, .gif, .jpeg, .png, .txt, .pdf)',
    ],
    [
      'a name with no usable characters',
      one('🎉#$%'),
      400,
      'invalid_attachment',
      'Attachment 1 ("🎉#$%"): the name has no usable characters',
    ],
    [
      'data that is not valid base64',
      [
        { name: 'ok.txt', data: b64('fine') },
        { name: 'report.pdf', data: 'this is not base64!' },
      ],
      400,
      'invalid_attachment',
      'Attachment 2 ("report.pdf"): data is not valid base64',
    ],
    [
      'an attachment without a name',
      [{ data: b64('hello') }],
      400,
      'invalid_attachment',
      'Attachment 1: send an object with a name and base64 data',
    ],
    [
      'an attachment without data',
      [{ name: 'report.pdf' }],
      400,
      'invalid_attachment',
      'Attachment 1: send an object with a name and base64 data',
    ],
    [
      '11 attachments, one more than allowed',
      Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.txt`, data: b64('x') })),
      413,
      'payload_too_large',
      'Attachment count exceeds the limit of 10 attachments',
    ],
  ])('refuses %s', async (_label, attachments, status, code, message) => {
    const before = await counts();
    const res = await post(jsonBody(attachments), 'application/json');
    await expectRefused(res, before, { status, code, message });
  });

  it('refuses x.exe in base64 of a JSON list sent urlencoded, with the same message', async () => {
    const before = await counts();
    const res = await post(
      form({
        ticketid: String(stack.seed.ticketId),
        message: 'refused',
        attachments: base64List([fileOf('x.exe', 10)]),
      }),
      URLENCODED,
    );
    await expectRefused(res, before, {
      status: 400,
      code: 'invalid_attachment',
      message: /^Attachment 1 \("x\.exe"\): extension \.exe is not allowed/,
    });
  });

  it('refuses 11 file parts with 413', async () => {
    const before = await counts();
    const data = multipart();
    for (let i = 0; i < 11; i++) addFile(data, 'attachments[]', fileOf(`f${i}.txt`, 100));
    const res = await post(data);
    await expectRefused(res, before, {
      status: 413,
      code: 'payload_too_large',
      message: 'Attachment count exceeds the limit of 10 attachments',
    });
  });

  it('refuses 10 file parts and one text attachment together with 413', async () => {
    const before = await counts();
    const data = multipart();
    for (let i = 0; i < 10; i++) addFile(data, 'attachments[]', fileOf(`f${i}.txt`, 100));
    data.append('attachments', base64List([fileOf('eleventh.txt', 10)]));
    const res = await post(data);
    await expectRefused(res, before, {
      status: 413,
      code: 'payload_too_large',
      message: 'Attachment count exceeds the limit of 10 attachments',
    });
  });

  it('refuses a file part under another field name (file) with 400', async () => {
    const before = await counts();
    const data = multipart();
    addFile(data, 'file', fileOf('report.pdf', 100));
    const res = await post(data);
    await expectRefused(res, before, {
      status: 400,
      code: 'invalid_parameter',
      message: 'Invalid file: send files as attachments, attachments[] or attachments[N]',
    });
  });

  it.each<[string, string]>([
    ['x.php', 'extension .php is never allowed'],
    ['.htaccess', 'names may not start with a dot'],
    ['x.exe', 'extension .exe is not allowed'],
  ])('refuses a second file part named %s after the first was staged', async (name, rule) => {
    const before = await counts();
    const data = multipart();
    addFile(data, 'attachments[]', fileOf('first.pdf', 5000));
    addFile(data, 'attachments[]', fileOf(name, 100));
    const res = await post(data);
    await expectRefused(res, before, {
      status: 400,
      code: 'invalid_attachment',
      message: new RegExp(
        `^Attachment 2 \\(${JSON.stringify(name).replace(/\./g, '\\.')}\\): ${rule}`,
      ),
    });
  });

  // Full 256 KiB chunks are stored as the part streams in, so 39 are in the database when the
  // byte over the 10 MiB limit (the default) cuts the part off: the refusal must remove them.
  it('refuses a file part one byte over 10 MiB, leaving none of its stored chunks', async () => {
    const before = await counts();
    const data = multipart();
    addFile(data, 'attachments[]', fileOf('huge.pdf', 10 * 1024 * 1024 + 1));
    const res = await post(data);
    await expectRefused(res, before, {
      status: 413,
      code: 'payload_too_large',
      message: 'Attachment 1 ("huge.pdf") exceeds the limit of 10 MiB',
    });
  });

  it('refuses a valid file part when the text attachments beside it are invalid', async () => {
    const before = await counts();
    const data = multipart();
    addFile(data, 'attachments', fileOf('staged.pdf', 4000));
    data.append('attachments', b64(JSON.stringify([{ name: 'report.pdf', data: '***' }])));
    const res = await post(data);
    await expectRefused(res, before, {
      status: 400,
      code: 'invalid_attachment',
      message: 'Attachment 2 ("report.pdf"): data is not valid base64',
    });
  });
});

describe('size limits (TICKETFLOW_MAX_ATTACHMENT_BYTES=1024, …_TOTAL_BYTES=2048)', () => {
  const textBody = (files: readonly File[]) =>
    form({
      ticketid: String(small.seed.ticketId),
      message: 'sizes',
      attachments: base64List(files),
    });

  it('accepts an attachment of exactly the limit, as text and as a file part', async () => {
    const text = fileOf('max.pdf', 1024);
    await expectStored(await post(textBody([text]), URLENCODED, { on: small }), [text], small);
    const part = fileOf('max-part.pdf', 1024);
    const data = multipart(small);
    addFile(data, 'attachments', part);
    await expectStored(await post(data, undefined, { on: small }), [part], small);
  });

  it('refuses base64 text one byte over the limit with 413 naming the attachment', async () => {
    const before = await counts(small);
    const res = await post(textBody([fileOf('big.pdf', 1025)]), URLENCODED, { on: small });
    await expectRefused(
      res,
      before,
      {
        status: 413,
        code: 'payload_too_large',
        message: 'Attachment 1 ("big.pdf") exceeds the limit of 1 KiB',
      },
      small,
    );
  });

  it('refuses a file part one byte over the limit with 413 naming the attachment', async () => {
    const before = await counts(small);
    const data = multipart(small);
    addFile(data, 'attachments[]', fileOf('ok.txt', 10));
    addFile(data, 'attachments[]', fileOf('big.pdf', 1025));
    const res = await post(data, undefined, { on: small });
    await expectRefused(
      res,
      before,
      {
        status: 413,
        code: 'payload_too_large',
        message: 'Attachment 2 ("big.pdf") exceeds the limit of 1 KiB',
      },
      small,
    );
  });

  const TOTAL = {
    status: 413,
    code: 'payload_too_large',
    message: 'Attachments in total exceeds the limit of 2 KiB',
  };
  const three = () => [fileOf('a.pdf', 1000), fileOf('b.pdf', 1000), fileOf('c.pdf', 1000)];

  it('refuses text attachments over the total limit with 413', async () => {
    const before = await counts(small);
    const res = await post(textBody(three()), URLENCODED, { on: small });
    await expectRefused(res, before, TOTAL, small);
  });

  it('refuses file parts over the total limit with 413', async () => {
    const before = await counts(small);
    const data = multipart(small);
    for (const file of three()) addFile(data, 'attachments[]', file);
    const res = await post(data, undefined, { on: small });
    await expectRefused(res, before, TOTAL, small);
  });

  it('refuses file parts and text attachments whose sum is over the total limit', async () => {
    const before = await counts(small);
    const [a, b, c] = three();
    const data = multipart(small);
    addFile(data, 'attachments[]', a!);
    addFile(data, 'attachments[]', b!);
    data.append('attachments', base64List([c!]));
    const res = await post(data, undefined, { on: small });
    await expectRefused(res, before, TOTAL, small);
  });
});

describe('the reply job in Redis', () => {
  it('carries blob references, not bytes: a 2 MiB upload makes a job under 2 KiB', async () => {
    const quiet = await startStack({ worker: false, env: MANY_REQUESTS });
    try {
      const big = fileOf('big.pdf', 2 * 1024 * 1024);
      const data = multipart(quiet);
      addFile(data, 'attachments', big);
      const res = await post(data, undefined, { on: quiet, wait: false });
      expect(res).toMatchObject({ status: 200, body: { status: 'queued' } });
      const job = await quiet.queue.getJob(replyJobId(String(res.body.replyid)));
      expect(job).toBeDefined();
      const size = JSON.stringify(job!.data).length;
      console.log(`reply job for a 2 MiB upload: ${size} bytes of JSON in Redis`);
      expect(size).toBeLessThan(2048);
      expect(job!.data.attachments).toEqual([
        { name: 'big.pdf', blob: { sha256: sha256(big.bytes), size: big.bytes.length } },
      ]);
    } finally {
      await quiet.close();
    }
  });
});

describe('bridge jobs with inline data (API.md §9)', () => {
  async function deadLetter(data: ReplyJob) {
    const job = await enqueueDirectly(stack, data);
    await expect.poll(() => job.getState(), { timeout: 10_000 }).toBe('failed');
    const errorOf = async () =>
      (
        await stack.database
          .db('dead_letters')
          .where({ job_id: job.id })
          .first<{ error: string } | undefined>('error')
      )?.error;
    await expect.poll(errorOf, { timeout: 5000 }).toBeDefined();
    expect(
      await stack.database.db('ticket_replies').where({ dedupe_key: data.dedupeKey }),
    ).toHaveLength(0);
    return (await errorOf())!;
  }

  it('stores inline data and serves it through get-ticket-attachment', async () => {
    const scan = fileOf('../inbox/scan.pdf', 5000);
    const data = bridgeJob(stack, {
      attachments: [
        { name: scan.name, data: chunkSplit(b64(scan.bytes)) },
        { name: UTF8_NAME, data: ALL_BYTES.toString('base64url') },
      ],
    });
    const job = await enqueueDirectly(stack, data);
    await expect.poll(() => job.getState(), { timeout: 10_000 }).toBe('completed');
    await expectStored(
      { status: 200, body: { result: 'success', status: 'persisted', replyid: data.replyid } },
      [
        { name: 'scan.pdf', bytes: scan.bytes },
        { name: UTF8_NAME, bytes: ALL_BYTES },
      ],
    );
  });

  it('dead-letters a job whose inline data is over 256 KiB in all, writing no reply', async () => {
    const data = bridgeJob(stack, {
      attachments: [
        { name: 'a.pdf', data: b64(randomBytes(150 * 1024)) },
        { name: 'b.pdf', data: b64(randomBytes(150 * 1024)) },
      ],
    });
    expect(await deadLetter(data)).toMatch(/inline data exceeds 256 KiB in all/);
  });

  it('dead-letters a job whose blob reference is not stored, writing no reply', async () => {
    const data = bridgeJob(stack, {
      attachments: [{ name: 'ghost.pdf', blob: { sha256: sha256(randomBytes(32)), size: 32 } }],
    });
    expect(await deadLetter(data)).toMatch(/foreign key|attachment_blobs/);
  });

  it('dead-letters a job whose attachment name is never allowed (x.php)', async () => {
    const data = bridgeJob(stack, {
      attachments: [{ name: 'x.php', data: b64('<?php system($_GET[1]);') }],
    });
    expect(await deadLetter(data)).toBe('Attachment 1 ("x.php"): extension .php is never allowed');
  });
});
