import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWebhookSecret } from '../src/index.ts';
import { webhookHeaders } from '../src/webhooks/sign-webhook.ts';

// The README's signature checks, run exactly as written against what the worker signs: a
// snippet that drifts from the signer fails here, not in a customer's integration.
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));
/** Under the worker's node_modules, so the Node snippet's `standardwebhooks` import resolves. */
const SCRATCH = fileURLToPath(new URL('../node_modules/.cache/', import.meta.url));
const run = promisify(execFile);

/** The fenced block right after `<!-- name -->` in the README. */
async function snippet(name: string): Promise<string> {
  const text = await readFile(README, 'utf8');
  const match = new RegExp(`<!-- ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
  if (!match) throw new Error(`README has no snippet ${name}`);
  return match[1]!;
}

let dir: string;
let verifyInNode: (secret: string, body: string, headers: Record<string, string>) => unknown;
let phpFile: string;

beforeAll(async () => {
  await mkdir(SCRATCH, { recursive: true });
  dir = await mkdtemp(join(SCRATCH, 'readme-verifiers-'));
  const mjs = join(dir, 'verify-webhook.mjs');
  await writeFile(mjs, await snippet('verify-webhook.mjs'));
  ({ verifyTicketflowWebhook: verifyInNode } = (await import(pathToFileURL(mjs).href)) as {
    verifyTicketflowWebhook: typeof verifyInNode;
  });
  phpFile = join(dir, 'verify-webhook.php');
  // The snippet, then a driver: the case arrives as JSON on stdin, the verdict leaves as text.
  await writeFile(
    phpFile,
    `${await snippet('verify-webhook.php')}
$case = json_decode(stream_get_contents(STDIN), true);
echo verify_ticketflow_webhook($case['secret'], $case['body'], $case['headers']) ? 'valid' : 'invalid';
`,
  );
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function verifyInPhp(secret: string, body: string, headers: Record<string, string>) {
  const child = run('php', [phpFile]);
  child.child.stdin!.end(JSON.stringify({ secret, body, headers }));
  return (await child).stdout;
}

const nowS = () => Math.floor(Date.now() / 1000);
const BODY = JSON.stringify({ type: 'ticket.reply.created', data: { message: 'héllo ✓' } });

describe('the README signature checks', () => {
  it('accept a delivery as the worker signs it (Node and PHP)', async () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders(secret, 'msg_abc', nowS(), BODY);
    expect(() => verifyInNode(secret, BODY, headers)).not.toThrow();
    expect(await verifyInPhp(secret, BODY, headers)).toBe('valid');
  });

  it('refuse a body changed on the way', async () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders(secret, 'msg_abc', nowS(), BODY);
    const forged = BODY.replace('héllo', 'hello');
    expect(() => verifyInNode(secret, forged, headers)).toThrow();
    expect(await verifyInPhp(secret, forged, headers)).toBe('invalid');
  });

  it('refuse a signature made with another secret', async () => {
    const headers = webhookHeaders(newWebhookSecret(), 'msg_abc', nowS(), BODY);
    const secret = newWebhookSecret();
    expect(() => verifyInNode(secret, BODY, headers)).toThrow();
    expect(await verifyInPhp(secret, BODY, headers)).toBe('invalid');
  });

  it('refuse a replay ten minutes old', async () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders(secret, 'msg_abc', nowS() - 600, BODY);
    expect(() => verifyInNode(secret, BODY, headers)).toThrow();
    expect(await verifyInPhp(secret, BODY, headers)).toBe('invalid');
  });
});
