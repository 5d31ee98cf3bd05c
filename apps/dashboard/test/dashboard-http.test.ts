import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDeadLetter, findDeadLetter } from '@ticketflow/db';
import { SECRET, startDashboardStack, type DashboardStack } from './dashboard-stack.ts';
import { cookieAttributes, logIn, postLogin, type BrowserSession } from './sessions.ts';

let stack: DashboardStack;
/** Failed reply jobs, each with a dead letter. */
let failed: string[];
let readOnly: BrowserSession;
let writer: BrowserSession;

beforeAll(async () => {
  stack = await startDashboardStack();
  failed = await stack.failReplies(4);
  readOnly = await logIn(stack.url, stack.token({}));
  writer = await logIn(stack.url, stack.token({ scope: 'ops:read ops:write' }));
});
afterAll(async () => {
  await stack?.close();
});

function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack.url}${path}`, { redirect: 'manual', headers });
}

function send(
  method: string,
  path: string,
  session: BrowserSession | undefined,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    method,
    redirect: 'manual',
    headers: { ...(session ? { cookie: session.cookie } : {}), ...headers },
  });
}

async function jobState(jobId: string): Promise<string> {
  const job = await stack.replies.getJob(jobId);
  return job ? job.getState() : 'missing';
}

function failedJobsPath(): string {
  return '/admin/queues/api/queues?activeQueue=replies&status=failed&page=1&jobsPerPage=50';
}

describe('login', () => {
  it('serves a login page with a token field and the security headers', async () => {
    const res = await get('/admin/login');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<input id="token" name="token" type="password"/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('starts a session for an ops token: HttpOnly, SameSite=Strict, Path=/admin, ending with the token', async () => {
    const res = await postLogin(stack.url, { token: stack.token({}) });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/queues');
    const [session, xsrf] = res.headers.getSetCookie();
    expect(session).toMatch(/^ticketflow_session=ey/);
    const s = cookieAttributes(session!);
    expect(s.has('httponly')).toBe(true);
    expect(s.get('samesite')).toBe('Strict');
    expect(s.get('path')).toBe('/admin');
    // The token lives 600 s: the cookie ends no later than the token.
    expect(Number(s.get('max-age'))).toBeGreaterThan(590);
    expect(Number(s.get('max-age'))).toBeLessThanOrEqual(600);
    // Plain http here: Secure would make the browser drop the cookie.
    expect(s.has('secure')).toBe(false);
    expect(xsrf).toMatch(/^XSRF-TOKEN=[A-Za-z0-9_-]{43};/);
    const x = cookieAttributes(xsrf!);
    expect(x.has('httponly')).toBe(false);
    expect(x.get('samesite')).toBe('Strict');
    expect(x.get('path')).toBe('/admin');
    expect(x.get('max-age')).toBe(s.get('max-age'));
  });

  it('returns to the dashboard page the browser asked for, never to another site', async () => {
    const back = await postLogin(stack.url, {
      token: stack.token({}),
      next: '/admin/dead-letters',
    });
    expect(back.headers.get('location')).toBe('/admin/dead-letters');
    for (const next of ['https://evil.example/', '//evil.example/admin/', '/admin/\\evil']) {
      const res = await postLogin(stack.url, { token: stack.token({}), next });
      expect(res.headers.get('location'), next).toBe('/admin/queues');
    }
  });

  it.each(['client', 'staff', 'bridge'] as const)(
    'refuses a %s token pasted into the login form, setting no cookie',
    async (role) => {
      const res = await postLogin(stack.url, { token: stack.token({ role, scope: 'ops:write' }) });
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(await res.text()).toContain('the dashboard takes ops tokens only');
    },
  );

  it.each(['client', 'staff', 'bridge'] as const)(
    'refuses a %s token sent as a bearer header, on pages and on the API',
    async (role) => {
      const authorization = `Bearer ${stack.token({ role, scope: 'ops:write' })}`;
      for (const path of ['/admin/queues', '/admin/dead-letters', failedJobsPath()]) {
        const res = await get(path, { authorization });
        expect(res.status, path).toBe(403);
        expect(await res.json()).toMatchObject({ result: 'error', code: 'forbidden' });
      }
    },
  );

  it('never takes a token from the query string (it would end up in logs and history)', async () => {
    for (const role of ['client', 'ops'] as const) {
      const token = stack.token({ role });
      const page = await get(`/admin/queues?token=${token}&access_token=${token}`);
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toMatch(/^\/admin\/login\?next=/);
      const api = await get(`${failedJobsPath()}&token=${token}&access_token=${token}`);
      expect(api.status).toBe(401);
    }
  });

  it('refuses a bad token with the verifier reason, and an empty field', async () => {
    const bad = await postLogin(stack.url, { token: 'not-a-jwt' });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain('Authentication Failed: malformed token');
    const empty = await postLogin(stack.url, { token: '  ' });
    expect(empty.status).toBe(400);
  });

  it('refuses a login form posted from another site (login CSRF)', async () => {
    const res = await postLogin(
      stack.url,
      { token: stack.token({}) },
      { 'sec-fetch-site': 'cross-site' },
    );
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});

describe('without a session', () => {
  it('sends a browser to the login page (303) from every dashboard page', async () => {
    for (const path of [
      '/admin',
      '/admin/queues',
      '/admin/queues/queue/replies',
      '/admin/dead-letters',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location')).toBe(`/admin/login?next=${encodeURIComponent(path)}`);
    }
  });

  it('answers the dashboard API with 401 and the JSON error shape', async () => {
    const res = await get(failedJobsPath());
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      result: 'error',
      message:
        'Authentication Failed: log in at /admin/login, or send an ops token as Authorization: Bearer',
      code: 'login_required',
    });
    const replay = await send('POST', '/admin/dead-letters/1/replay', undefined);
    expect(replay.status).toBe(401);
  });

  it('treats an expired or forged session cookie as none, and deletes it', async () => {
    const forged = `ticketflow_session=${stack.token({}).slice(0, -4)}AAAA`;
    const res = await get('/admin/queues', { cookie: forged });
    expect(res.status).toBe(303);
    expect(res.headers.getSetCookie().join('\n')).toMatch(/ticketflow_session=; Max-Age=0/);
  });

  it('lets a script in with an ops bearer token and no cookie', async () => {
    const res = await get(failedJobsPath(), { authorization: `Bearer ${stack.token({})}` });
    expect(res.status).toBe(200);
  });
});

describe('a read-only session', () => {
  it('gets bull-board’s page with the security headers', async () => {
    const res = await get('/admin/queues', { cookie: readOnly.cookie });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<base href="/admin/queues/"');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('sees every catalog queue with its counts, read-only', async () => {
    const res = await get('/admin/queues/api/queues?page=1&jobsPerPage=10', {
      cookie: readOnly.cookie,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      queues: { name: string; readOnlyMode: boolean; counts: Record<string, number> }[];
    };
    expect(body.queues.map((q) => q.name).sort()).toEqual(
      ['maintenance', 'notifications', 'replies'].sort(),
    );
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true);
    expect(body.queues.find((q) => q.name === 'replies')!.counts.failed).toBe(failed.length);
  });

  it.each([
    ['POST', '/admin/queues/api/queues/replies/retry/failed'],
    ['PUT', '/admin/queues/api/queues/replies/retry/failed'],
    ['PUT', '/admin/queues/api/queues/replies/clean/failed'],
    ['PUT', '/admin/queues/api/queues/replies/pause'],
    ['POST', '/admin/queues/api/queues/replies/add'],
  ])('is refused %s %s with 403 even with a valid XSRF header', async (method, path) => {
    const res = await send(method, path, readOnly, { 'x-xsrf-token': readOnly.xsrf });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ result: 'error', code: 'forbidden' });
    expect(await jobState(failed[0]!)).toBe('failed');
    expect(await stack.replies.isPaused()).toBe(false);
  });

  it('is refused a job retry and a dead letter replay', async () => {
    const retry = await send(
      'PUT',
      `/admin/queues/api/queues/replies/${failed[0]}/retry`,
      readOnly,
      {
        'x-xsrf-token': readOnly.xsrf,
      },
    );
    expect(retry.status).toBe(403);
    const letter = await findDeadLetter(stack.db, 'replies', failed[0]!);
    const replay = await send('POST', `/admin/dead-letters/${letter!.id}/replay`, readOnly, {
      'x-xsrf-token': readOnly.xsrf,
    });
    expect(replay.status).toBe(403);
    expect(await jobState(failed[0]!)).toBe('failed');
    expect((await findDeadLetter(stack.db, 'replies', failed[0]!))!.replayedAt).toBeNull();
  });

  it('sees the dead letters without a Replay button', async () => {
    const res = await get('/admin/dead-letters', { cookie: readOnly.cookie });
    const html = await res.text();
    expect(html).toContain(failed[0]);
    expect(html).toContain('ticket_not_found');
    expect(html).toContain('its ticket does not exist');
    expect(html).not.toContain('>Replay</button>');
  });

  it('can log out (with the XSRF header), which deletes both cookies', async () => {
    const session = await logIn(stack.url, stack.token({}));
    const refused = await send('POST', '/admin/logout', session);
    expect(refused.status).toBe(403);
    const res = await send('POST', '/admin/logout', session, { 'x-xsrf-token': session.xsrf });
    expect(res.status).toBe(204);
    const cleared = res.headers.getSetCookie();
    expect(cleared).toHaveLength(2);
    for (const c of cleared) expect(c).toMatch(/=; Max-Age=0; Path=\/admin; SameSite=Strict/);
  });
});

describe('an ops:write session', () => {
  it('is refused a change without the XSRF header, or with another session’s token', async () => {
    const path = `/admin/queues/api/queues/replies/${failed[1]}/retry`;
    const attempts: Record<string, string>[] = [
      {},
      { 'x-xsrf-token': readOnly.xsrf },
      { 'x-xsrf-token': '' },
    ];
    for (const headers of attempts) {
      const res = await send('PUT', path, writer, headers);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'xsrf_token_invalid' });
    }
    expect(await jobState(failed[1]!)).toBe('failed');
  });

  it('retries a failed job with the XSRF header, and the job leaves the failed set', async () => {
    const res = await send('PUT', `/admin/queues/api/queues/replies/${failed[1]}/retry`, writer, {
      'x-xsrf-token': writer.xsrf,
    });
    expect(res.status).toBe(204);
    expect(await jobState(failed[1]!)).toBe('waiting');
  });

  it('cannot add or edit a job: the data it holds is the redacted copy', async () => {
    const before: unknown = (await stack.replies.getJob(failed[3]!))!.data;
    const counts = await stack.replies.getJobCounts();
    for (const [method, path] of [
      ['POST', '/admin/queues/api/queues/replies/add'],
      ['PATCH', `/admin/queues/api/queues/replies/${failed[3]}/update-data`],
    ] as const) {
      const res = await fetch(`${stack.url}${path}`, {
        method,
        headers: {
          cookie: writer.cookie,
          'x-xsrf-token': writer.xsrf,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ name: 'reply', data: { message: '[redacted: 37 chars]' } }),
      });
      expect(res.status, path).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'forbidden' });
    }
    expect((await stack.replies.getJob(failed[3]!))!.data).toEqual(before);
    expect(await stack.replies.getJobCounts()).toEqual(counts);
  });

  it('replays a dead letter once; a second replay is a 409', async () => {
    const letter = (await findDeadLetter(stack.db, 'replies', failed[2]!))!;
    const path = `/admin/dead-letters/${letter.id}/replay`;
    const res = await send('POST', path, writer, { 'x-xsrf-token': writer.xsrf });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: 'success', outcome: 'retried' });
    expect(await jobState(failed[2]!)).toBe('waiting');
    const again = await send('POST', path, writer, { 'x-xsrf-token': writer.xsrf });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'dead_letter_replayed' });
    const missing = await send('POST', '/admin/dead-letters/999999/replay', writer, {
      'x-xsrf-token': writer.xsrf,
    });
    expect(missing.status).toBe(404);
  });
});

describe('redaction', () => {
  it('shows failed reply jobs with message, names, emails and attachment data redacted', async () => {
    const res = await get(failedJobsPath(), { cookie: readOnly.cookie });
    const text = await res.text();
    for (const secret of Object.values(SECRET)) expect(text).not.toContain(secret);
    const body = JSON.parse(text) as {
      queues: {
        name: string;
        jobs: { id: string; data: unknown; failedReason: string; attempts: number }[];
      }[];
    };
    const job = body.queues
      .find((q) => q.name === 'replies')!
      .jobs.find((j) => j.id === failed[0])!;
    expect(job.failedReason).toBe('ticket NO-SUCH-1 does not exist');
    expect(job.attempts).toBe(1);
    expect(job.data).toMatchObject({
      v: 1,
      ticket: { num: 'NO-SUCH-1' },
      author: { type: 'guest', name: '[redacted: 12 chars]', email: '[redacted: 24 chars]' },
      message: `[redacted: ${SECRET.message.length} chars]`,
      attachments: [{ data: `[redacted: ${SECRET.attachment.length} chars]` }],
    });
  });

  it('redacts the job view bull-board opens, too', async () => {
    const res = await get(`/admin/queues/api/queues/replies/${failed[0]}`, {
      cookie: writer.cookie,
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const secret of Object.values(SECRET)) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted:');
  });
});

describe('the dead letters page', () => {
  it('escapes what it renders (a job id is whatever a producer chose)', async () => {
    await recordDeadLetter(stack.db, {
      queue: 'replies',
      jobId: '<img src=x onerror=alert(1)>',
      name: 'reply',
      payload: {},
      reason: 'invalid_job',
      error: 'bad',
      attempts: 1,
    });
    const html = await (await get('/admin/dead-letters', { cookie: writer.cookie })).text();
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('>Replay</button>');
  });
});
