import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DEMO_TICKET_SUBJECT, rawMail, until } from '@ticketflow/testing/peers';
import { MAX_MESSAGE_BYTES, startBridgeStack, type BridgeStack } from './bridge-stack.ts';

const BIN = fileURLToPath(new URL('../../cli/bin/ticketflow.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** tsx compiles the CLI as it starts: seconds on a busy machine. */
const DEADLINE_MS = 40_000;
/** Each test starts real processes, several at once: more than the 30 s default on a busy machine. */
const SPAWNING = { timeout: 90_000 };

let stack: BridgeStack;

beforeAll(async () => {
  stack = await startBridgeStack();
});
afterAll(async () => {
  await stack?.close();
});

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `ticketflow <args>` as a real process on the stack's stores, with `input` on its stdin. */
function ticketflow(args: string[], input: string, env: Record<string, string> = {}) {
  return run([BIN, ...args], input, env);
}

/** `node <args>` from the repository root, with the stack's environment. */
function run(args: string[], input: string, env: Record<string, string> = {}, cwd = ROOT) {
  return watch(
    spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...stack.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
    input,
  );
}

/** Another program (npm), in `cwd`, with this process's environment. */
function command(program: string, args: string[], cwd: string): Promise<Exited> {
  return watch(spawn(program, args, { cwd, env: process.env, stdio: ['pipe', 'pipe', 'pipe'] }), '')
    .exited;
}

/** Feeds `input` to a child and collects what it prints until it exits (killed past the deadline). */
function watch(child: ChildProcessWithoutNullStreams, input: string) {
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<Exited>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, exited, output: () => stdout };
}

/** A message as an MTA hands it to a pipe, from the contact under a display name. */
const message = (headers: Record<string, string>, body: string) =>
  rawMail(headers, body, 'Demo Contact <contact@demo.example>');

const TAG = DEMO_TICKET_SUBJECT;

describe('ticketflow bridge ingest (stdin)', SPAWNING, () => {
  it('exits 0 for a posted reply, 67 for a forged In-Reply-To, 0 for an auto-reply and a bounce', async () => {
    const reply = message(
      {
        Subject: 'Re: My website is down',
        'In-Reply-To': stack.notificationId(stack.seed.ticketId),
      },
      'Back up, thanks.\r\n\r\nOn Thu, Dec 3, 2026, Help Desk <help@desk.example> wrote:\r\n> Restart it.',
    );
    const forged = message(
      {
        Subject: 'Re: My website is down',
        'In-Reply-To': `<tf.${stack.seed.ticketId}.${randomUUID()}.AAAAAAAAAAAAAAAAAAAAAA@desk.example>`,
      },
      'Forged.',
    );
    const away = message({ Subject: TAG, 'Auto-Submitted': 'auto-replied' }, 'Away.');
    const bounce = message(
      {
        Subject: TAG,
        'MIME-Version': '1.0',
        'Content-Type': 'multipart/report; report-type="delivery-status"; boundary="b"',
      },
      '--b\r\nContent-Type: text/plain\r\n\r\nUndeliverable.\r\n--b--',
    );
    const ingest = (m: { raw: string }) => ticketflow(['bridge', 'ingest'], m.raw).exited;
    const [posted, refused, dropped, bounced] = await Promise.all([
      ingest(reply),
      ingest(forged),
      ingest(away),
      ingest(bounce),
    ]);
    expect(posted).toMatchObject({ code: 0 });
    expect(posted.stdout).toMatch(
      /^ticketflow: posted: reply [0-9a-f-]{36} on ticket DEMO-000001\n$/,
    );
    const [stored] = await stack.storedReplies(reply.key);
    expect(stored).toMatchObject({ ticket_id: stack.seed.ticketId, message: 'Back up, thanks.' });
    expect(refused).toMatchObject({ code: 67 });
    expect(refused.stderr).toContain('refused: No ticket matches this email');
    expect(dropped).toMatchObject({ code: 0 });
    expect(dropped.stdout).toContain('dropped: Auto-Submitted: auto-replied (auto_submitted)');
    expect(bounced).toMatchObject({ code: 0 });
    expect(await stack.inboundEmail(bounce.key)).toMatchObject({
      outcome: 'dropped',
      reason: 'bounce',
    });
    expect(await stack.inboundEmail(forged.key)).toMatchObject({
      outcome: 'refused',
      reason: 'no_ticket',
    });
  });

  it('stores a piped attachment byte-exact under the rules of the HTTP path, and refuses a forbidden one with 67', async () => {
    const invoice = randomBytes(20_000);
    const withFile = (name: string, bytes: Buffer) =>
      message(
        {
          Subject: TAG,
          'MIME-Version': '1.0',
          'Content-Type': 'multipart/mixed; boundary="part"',
        },
        [
          '--part',
          'Content-Type: text/plain; charset=utf-8',
          '',
          'The invoice is attached.',
          '--part',
          'Content-Type: application/pdf',
          `Content-Disposition: attachment; filename="${name}"`,
          'Content-Transfer-Encoding: base64',
          '',
          bytes.toString('base64'),
          '--part--',
        ].join('\r\n'),
      );
    const good = withFile('invoice.pdf', invoice);
    const bad = withFile('run.exe', Buffer.from('MZ'));
    const [posted, refused] = await Promise.all([
      ticketflow(['bridge', 'ingest'], good.raw).exited,
      ticketflow(['bridge', 'ingest'], bad.raw).exited,
    ]);
    expect(posted).toMatchObject({ code: 0 });
    const [reply] = await stack.storedReplies(good.key);
    expect(reply).toMatchObject({ message: 'The invoice is attached.' });
    expect(await stack.storedAttachments(reply!.id)).toEqual([
      { name: 'invoice.pdf', bytes: invoice },
    ]);
    expect(refused).toMatchObject({ code: 67 });
    expect(refused.stderr).toContain('Attachment 1 ("run.exe"): extension .exe');
    expect(await stack.database.db('ticket_replies').where({ dedupe_key: bad.key })).toEqual([]);
  });

  it('stores one reply when two processes ingest the same message at once (--mailbox names the key)', async () => {
    const same = message({ Subject: TAG }, 'Sent once, delivered twice.');
    const runs = await Promise.all(
      [1, 2].map(() => ticketflow(['bridge', 'ingest', '--mailbox', 'helpdesk'], same.raw).exited),
    );
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    const key = `email:helpdesk:${same.bare}`;
    const [reply, ...others] = await stack.storedReplies(key);
    expect(others).toEqual([]);
    for (const run of runs) expect(run.stdout).toContain(reply!.reply_uid);
    expect(await stack.inboundEmail(key)).toMatchObject({ outcome: 'posted', deliveries: 2 });
  });

  it("exits 75 past the ticket's per-minute limit, so the MTA keeps the message for later", async () => {
    // Fixed one-minute windows: start with time left in this one, so all three share it.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 20_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
    const mails = [1, 2, 3].map((n) =>
      rawMail(
        { Subject: `Re: [Ticket ID: ${stack.seed.guestTid}] Guest question` },
        `Guest mail ${n}.`,
        'gina@guest.example',
      ),
    );
    const runs = await Promise.all(
      mails.map(
        (m) =>
          ticketflow(['bridge', 'ingest'], m.raw, { TICKETFLOW_RATE_LIMIT_PER_TICKET: '2' }).exited,
      ),
    );
    expect(runs.map((r) => r.code).sort()).toEqual([0, 0, 75]);
    const limited = runs.find((r) => r.code === 75)!;
    expect(limited.stderr).toMatch(/deferred: Too many requests for this ticket; retry in \d+ s/);
    const held = mails[runs.indexOf(limited)]!;
    expect(await stack.inboundEmail(held.key)).toBeUndefined();
  });

  it('exits 67 for a message over the size limit, and 75 while Redis is unreachable', async () => {
    const huge = message({ Subject: TAG }, 'x'.repeat(MAX_MESSAGE_BYTES));
    const later = message({ Subject: TAG }, 'Try me again later.');
    const [tooLarge, deferred] = await Promise.all([
      ticketflow(['bridge', 'ingest'], huge.raw).exited,
      // Nothing listens on port 1: the message must stay with the MTA.
      ticketflow(['bridge', 'ingest'], later.raw, { REDIS_URL: 'redis://127.0.0.1:1' }).exited,
    ]);
    expect(tooLarge).toMatchObject({ code: 67 });
    expect(tooLarge.stderr).toContain('refused: the message exceeds the limit of 256 KiB');
    expect(deferred).toMatchObject({ code: 75 });
    expect(deferred.stderr).toMatch(/deferred: .*Redis is unreachable/);
    expect(await stack.database.db('ticket_replies').where({ dedupe_key: later.key })).toEqual([]);
  });
});

describe('ticketflow bridge (listener)', SPAWNING, () => {
  it('takes SMTP on the port it is given, answers health and counts each outcome on --http, and stops on SIGTERM', async () => {
    const run = ticketflow(['bridge', '--smtp', '0', '--http', '0', '--host', '127.0.0.1'], '', {
      LOG_LEVEL: 'info',
    });
    const [smtpPort, httpPort] = await until(
      'the bridge to listen',
      () => {
        const smtp = /"protocol":"smtp".*?"port":(\d+)/.exec(run.output())?.[1];
        const http = /"port":(\d+),"msg":"email bridge health/.exec(run.output())?.[1];
        return smtp && http && [Number(smtp), `http://127.0.0.1:${http}`];
      },
      DEADLINE_MS,
    );
    const mail = (subject: string, text: string) => ({
      from: 'client@demo.example',
      to: 'support@desk.example',
      subject,
      messageId: `<${randomUUID()}@mail.example>`,
      text,
    });
    const bare = `${randomUUID()}@mail.example`;
    const answer = await stack.send(
      { port: Number(smtpPort) },
      { ...mail(TAG, 'Through the listener.'), messageId: `<${bare}>` },
    );
    expect(answer.text).toMatch(/^250 OK: posted as reply/);
    await stack.storedReplies(`email:support:${bare}`);
    const port = { port: Number(smtpPort) };
    expect((await stack.send(port, mail('Hello', 'Which ticket?'))).code).toBe(550);
    expect((await stack.send(port, mail(TAG, 'x'.repeat(MAX_MESSAGE_BYTES)))).code).toBe(552);

    expect((await fetch(`${httpPort}/readyz`)).status).toBe(200);
    expect((await fetch(`${httpPort}/metrics`)).status).toBe(401);
    const token = await ticketflow(['token', '--role', 'ops', '--sub', 'bridge-metrics'], '')
      .exited;
    const metrics = await fetch(`${httpPort}/metrics`, {
      headers: { authorization: `Bearer ${token.stdout.trim()}` },
    });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    const count = (outcome: string, reason: string) =>
      new RegExp(
        `^ticketflow_inbound_emails_total\\{outcome="${outcome}",reason="${reason}"\\} (\\d+)$`,
        'm',
      ).exec(text)?.[1];
    expect(count('posted', '')).toBe('1');
    expect(count('refused', 'no_ticket')).toBe('1');
    expect(count('refused', 'message_too_large')).toBe('1');
    // Outcomes it has not met yet are there from the start, at 0.
    expect(count('dropped', 'bounce')).toBe('0');
    expect(count('deferred', '')).toBe('0');

    run.child.kill('SIGTERM');
    expect(await run.exited).toMatchObject({ code: 0 });
  });
});

describe('the README example "Enqueue replies directly"', SPAWNING, () => {
  it('runs, as written there, with plain Node in a project outside the repository that installed the packed contract, whose declarations type-check', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const snippet = /<!-- enqueue-reply.mjs -->\n```js\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(snippet).toBeDefined();
    // A producer's own project: nothing of the monorepo resolves from here.
    const project = await mkdtemp(join(tmpdir(), 'tf-producer-'));
    onTestFinished(() => rm(project, { recursive: true, force: true }));
    const packed = await run([join(ROOT, 'packages/contract/scripts/pack.mjs'), project], '')
      .exited;
    expect(packed).toMatchObject({ code: 0 });
    const tarball = packed.stdout.trim().split('\n').at(-1)!;
    await writeFile(join(project, 'package.json'), '{"private":true,"type":"module"}\n');
    const rootPackage = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const pinned = (name: string) => `${name}@${rootPackage.devDependencies[name]}`;
    // The packages come from npm's cache when it has them (it does after `npm ci` here).
    const installed = await command(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        tarball,
        pinned('bullmq'),
        pinned('ioredis'),
        pinned('@types/node'),
      ],
      project,
    );
    expect(installed).toMatchObject({ code: 0 });
    await writeFile(join(project, 'enqueue-reply.mjs'), snippet!);

    const exited = await run([join(project, 'enqueue-reply.mjs')], '', {}, project).exited;
    expect(exited).toMatchObject({ code: 0, stderr: '' });
    const replyid = exited.stdout.trim();
    const [stored] = await until('the README reply to be stored', async () => {
      const rows = await stack.database
        .db('ticket_replies')
        .where({ reply_uid: replyid })
        .select<Array<Record<string, unknown>>>('*');
      return rows.length > 0 && rows;
    });
    expect(stored).toMatchObject({
      ticket_id: stack.seed.ticketId,
      name: 'Ada Lovelace',
      message: 'Thanks, the restart fixed it.',
    });

    // A TypeScript producer: the declarations resolve, every one of them checked (no skipLibCheck).
    await writeFile(
      join(project, 'producer.ts'),
      [
        "import { Queue } from 'bullmq';",
        "import { enqueueReply, validateReplyJob, type ReplyJob } from '@ticketflow/contract';",
        'const check = validateReplyJob({});',
        'const job: ReplyJob | undefined = check.ok ? check.job : undefined;',
        "void enqueueReply(new Queue('replies'), job);",
        '',
      ].join('\n'),
    );
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', strict: true, noEmit: true, types: ['node'] },
        files: ['producer.ts'],
      }),
    );
    const typed = await run(
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project],
      '',
      {},
      project,
    ).exited;
    expect(typed).toMatchObject({ code: 0, stdout: '' });
  });
});
