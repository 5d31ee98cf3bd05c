import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDeadLetter } from '@ticketflow/db';
import { until } from '@ticketflow/testing/peers';
import { SECRET, startDashboardStack, type DashboardStack } from './dashboard-stack.ts';

/** Screenshots land here (ignored by git); docs/dashboard.png is copied from one by hand. */
const SCREENSHOTS = new URL('../../../artifacts/screenshots/', import.meta.url);

let stack: DashboardStack;
let browser: Browser;
/** Failed reply jobs, each dead-lettered: [retried from the UI, XSRF probe, replayed, spare]. */
let failed: string[];
let readOnly: Page;
let writer: Page;

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  stack = await startDashboardStack();
  failed = await stack.failReplies(4);
  // Debian's chromium (installed by .ci/run); playwright-core never downloads a browser.
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--disable-dev-shm-usage',
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return { context, page };
}

/** Through the login page, as a person does: open a dashboard URL, paste the token, submit. */
async function logInThroughPage(page: Page, token: string, screenshot?: string): Promise<void> {
  await page.goto(`${stack.url}/admin/queues`);
  expect(new URL(page.url()).pathname).toBe('/admin/login');
  await page.fill('#token', token);
  if (screenshot) await shoot(page, screenshot);
  await page.click('button[type=submit]');
}

async function shoot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname });
}

/** A request made by the page's own script, with or without the XSRF header. */
async function fetchInPage(
  page: Page,
  method: string,
  path: string,
  withXsrf: boolean,
): Promise<{ status: number; body: { code?: string } }> {
  // A string, not a function: the test's TypeScript has no DOM types.
  return page.evaluate(`(async () => {
    const cookie = document.cookie.split('; ').find((c) => c.startsWith('XSRF-TOKEN='));
    const headers = ${withXsrf} && cookie ? { 'X-XSRF-TOKEN': decodeURIComponent(cookie.slice(11)) } : {};
    const res = await fetch(${JSON.stringify(path)}, { method: ${JSON.stringify(method)}, headers });
    return { status: res.status, body: await res.json() };
  })()`);
}

async function jobState(jobId: string): Promise<string> {
  const job = await stack.replies.getJob(jobId);
  return job ? job.getState() : 'missing';
}

/** bull-board's per-job Retry button (an icon; its label is a tooltip). */
const RETRY_BUTTON = 'button:has(svg.lucide-refresh-cw)';

describe('the dashboard in a real browser', () => {
  it('never lets a client or staff token in', async () => {
    const { context, page } = await newPage();
    for (const role of ['client', 'staff'] as const) {
      await logInThroughPage(page, stack.token({ role, scope: 'ops:write' }));
      await expect
        .poll(() => page.locator('[role=alert]').textContent())
        .toBe('Invalid Permissions: the dashboard takes ops tokens only');
      expect((await context.cookies()).map((c) => c.name)).not.toContain('ticketflow_session');
      await page.goto(`${stack.url}/admin/queues`);
      expect(new URL(page.url()).pathname).toBe('/admin/login');
    }
    await context.close();
  });

  it('logs an ops token in through the login page and shows every queue with its counts', async () => {
    ({ page: readOnly } = await newPage());
    await logInThroughPage(readOnly, stack.token({}), 'login');
    await readOnly.waitForURL(`${stack.url}/admin/queues`);
    for (const queue of ['replies', 'notifications', 'maintenance']) {
      await expect
        .poll(() => readOnly.getByText(queue, { exact: true }).count())
        .toBeGreaterThan(0);
    }
    // The replies card: its failed count and the read-only badge.
    await readOnly.getByText(`${failed.length} Jobs`).waitFor();
    await readOnly.getByText('read-only', { exact: true }).waitFor();
    await readOnly.getByText('FAILED', { exact: true }).first().waitFor();
    const dashboard = await shoot(readOnly, 'dashboard');
    await saveLoginAndDashboard(dashboard);
  });

  it('opens a failed job and shows its body redacted, its failure reason in full', async () => {
    await readOnly.goto(`${stack.url}/admin/queues/queue/replies/${failed[3]}`);
    await readOnly.getByText('ticket NO-SUCH-1 does not exist').first().waitFor();
    await readOnly.getByRole('tab', { name: 'Data' }).click();
    await readOnly
      .getByText(/\[redacted: \d+ chars\]/)
      .first()
      .waitFor();
    const html = await readOnly.content();
    for (const secret of Object.values(SECRET)) expect(html).not.toContain(secret);
    await shoot(readOnly, 'redacted-job');
  });

  it('read-only: shows no Retry button, and refuses the retry when sent anyway', async () => {
    await readOnly.goto(`${stack.url}/admin/queues/queue/replies/${failed[0]}`);
    await readOnly.getByText('ticket NO-SUCH-1 does not exist').first().waitFor();
    expect(await readOnly.locator(RETRY_BUTTON).count()).toBe(0);
    await readOnly.goto(`${stack.url}/admin/queues/queue/replies?status=failed`);
    await readOnly.getByText(failed[0]!).waitFor();
    expect(await readOnly.getByText('Retry all').count()).toBe(0);
    const direct = await fetchInPage(
      readOnly,
      'PUT',
      `/admin/queues/api/queues/replies/${failed[0]}/retry`,
      true,
    );
    expect(direct).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(await jobState(failed[0]!)).toBe('failed');
    await shoot(readOnly, 'read-only-failed');
  });

  it('ops:write: refuses a change sent without the XSRF token', async () => {
    ({ page: writer } = await newPage());
    await logInThroughPage(writer, stack.token({ scope: 'ops:write' }));
    await writer.waitForURL(`${stack.url}/admin/queues`);
    const forged = await fetchInPage(
      writer,
      'PUT',
      `/admin/queues/api/queues/replies/${failed[1]}/retry`,
      false,
    );
    expect(forged).toMatchObject({ status: 403, body: { code: 'xsrf_token_invalid' } });
    expect(await jobState(failed[1]!)).toBe('failed');
  });

  it('ops:write: clicking Retry moves the failed job back to waiting', async () => {
    await writer.goto(`${stack.url}/admin/queues/queue/replies/${failed[0]}`);
    await writer.locator(RETRY_BUTTON).click();
    // bull-board's axios sends the XSRF-TOKEN cookie back as X-XSRF-TOKEN by itself.
    await writer.getByRole('button', { name: 'Confirm' }).click();
    await until(`job ${failed[0]} waiting`, async () => (await jobState(failed[0]!)) === 'waiting');
    await writer.goto(`${stack.url}/admin/queues/queue/replies?status=waiting`);
    await writer.getByText(failed[0]!).waitFor();
    await shoot(writer, 'retried');
  });

  it('replays a dead letter from the dead letters page', async () => {
    const letter = (await findDeadLetter(stack.db, 'replies', failed[2]!))!;
    // From bull-board's own menu (its miscLinks) to our page.
    await writer.goto(`${stack.url}/admin/queues`);
    await writer.locator('button:has(svg.lucide-circle-user)').click();
    await writer.getByRole('menuitem', { name: 'Dead letters' }).click();
    await writer.waitForURL(`${stack.url}/admin/dead-letters`);
    const row = writer.locator(`#dead-letter-${letter.id}`);
    await row.getByText('its ticket does not exist').waitFor();
    await row.getByRole('button', { name: 'Replay' }).click();
    await writer.locator('#status').getByText(`Dead letter ${letter.id} replayed`).waitFor();
    expect(await row.locator('.replayed').textContent()).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await row.getByRole('button', { name: 'Replay' }).count()).toBe(0);
    expect(await jobState(failed[2]!)).toBe('waiting');
    await shoot(writer, 'dead-letters');
    // A read-only session sees the rows and no Replay button.
    await readOnly.goto(`${stack.url}/admin/dead-letters`);
    await readOnly.locator(`#dead-letter-${letter.id}`).waitFor();
    expect(await readOnly.getByRole('button', { name: 'Replay' }).count()).toBe(0);
  });

  it('logs out from the header button: both cookies gone, back to the login page', async () => {
    await writer.goto(`${stack.url}/admin/dead-letters`);
    await writer.getByRole('button', { name: 'Log out' }).click();
    await writer.waitForURL(`${stack.url}/admin/login`);
    expect(await writer.context().cookies()).toEqual([]);
    await writer.goto(`${stack.url}/admin/queues`);
    expect(new URL(writer.url()).pathname).toBe('/admin/login');
  });
});

/** docs/dashboard.png is made from this: the login page and the board, side by side. */
async function saveLoginAndDashboard(dashboard: Buffer): Promise<void> {
  const login = await readFile(new URL('login.png', SCREENSHOTS));
  const { context, page } = await newPage();
  await page.setViewportSize({ width: 1600, height: 450 });
  await page.setContent(
    `<body style="margin:0;display:flex;background:#ccc;gap:4px">${[login, dashboard]
      .map(
        (png) => `<img style="width:798px" src="data:image/png;base64,${png.toString('base64')}">`,
      )
      .join('')}</body>`,
  );
  await writeFile(new URL('login-and-dashboard.png', SCREENSHOTS), await page.screenshot());
  await context.close();
}
