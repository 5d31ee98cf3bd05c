import type { Request, Response } from 'express';
import { ApiError, apiError } from '@ticketflow/contract';
import type { Principal } from '@ticketflow/ingress';
import { clearedCookies, sessionOf } from './access-guard.ts';
import { ADMIN_PATH, dashboardCookie, SESSION_COOKIE, XSRF_COOKIE } from './cookies.ts';
import { ACTION_SCRIPT, pageHeader } from './page-chrome.ts';
import { escapeHtml } from './render-page.ts';
import { sendPage } from './send-page.ts';
import type { XsrfTokens } from './xsrf-token.ts';

interface LoginDeps {
  verifyToken: (authorization: string | undefined) => Principal;
  xsrf: XsrfTokens;
}

/** Where a login lands when it was not sent from another dashboard page. */
const HOME = `${ADMIN_PATH}/queues`;

/**
 * The login page: people in a browser cannot send a bearer header, so they paste their ops
 * token once and get a session cookie instead.
 */
export function showLogin(req: Request, res: Response): void {
  sendPage(res, 200, loginPage(landingOf(req.query.next)));
}

/**
 * Checks the pasted token with the API's own verifier and, for an `ops` token, starts the
 * session: the token itself in an HttpOnly cookie that expires with it, and the XSRF-TOKEN
 * cookie bound to it. Stateless on purpose: nothing to store or share between ingress
 * processes, and since the token is verified again on every request, expiry and a rotated
 * secret end the session too. (An HMAC-signed session id would add a second secret and still
 * have to carry the token's expiry and scope.)
 */
export function createLogIn(deps: LoginDeps) {
  return function logIn(req: Request, res: Response): void {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const landing = landingOf(body.next);
    // Login CSRF: a cross-site form could otherwise log a browser into someone else's session.
    const site = req.get('sec-fetch-site');
    if (site === 'cross-site' || site === 'same-site') {
      return refuse(res, landing, apiError('forbidden', 'log in from the dashboard login page'));
    }
    const token =
      typeof body.token === 'string' ? body.token.trim().replace(/^Bearer\s+/i, '') : '';
    if (token === '') {
      return sendPage(res, 400, loginPage(landing, 'Paste an ops token into the field.'));
    }
    let principal: Principal;
    try {
      principal = deps.verifyToken(`Bearer ${token}`);
    } catch (error) {
      if (error instanceof ApiError) return refuse(res, landing, error);
      throw error;
    }
    if (principal.role !== 'ops') {
      return refuse(res, landing, apiError('forbidden', 'the dashboard takes ops tokens only'));
    }
    const maxAgeSeconds = Math.floor(principal.exp - Date.now() / 1000);
    if (maxAgeSeconds <= 0) return refuse(res, landing, apiError('invalid_token', 'token expired'));
    const secure = req.secure;
    res.append('Set-Cookie', [
      dashboardCookie(SESSION_COOKIE, token, { maxAgeSeconds, httpOnly: true, secure }),
      // Readable by page scripts on purpose: bull-board's axios and our pages echo it.
      dashboardCookie(XSRF_COOKIE, deps.xsrf.tokenFor(token), {
        maxAgeSeconds,
        httpOnly: false,
        secure,
      }),
    ]);
    res.redirect(303, landing);
  };
}

/** A page with one button: logging out is a POST, so a link elsewhere cannot do it. */
export function showLogout(_req: Request, res: Response): void {
  const session = sessionOf(res);
  sendPage(res, 200, {
    title: 'Log out · Ticketflow',
    body: `${pageHeader(session)}<main class="card"><h1>Log out</h1>
<p>Signed in as <strong>${escapeHtml(session.principal.sub)}</strong>. Log out with the button
above; the token itself stays valid until it expires.</p>
<p class="status" role="status" id="status"></p></main>`,
    script: ACTION_SCRIPT,
  });
}

/** Ends the browser's session: both cookies deleted. The token itself stays valid until exp. */
export function logOut(req: Request, res: Response): void {
  res.append('Set-Cookie', clearedCookies(req));
  res.status(204).end();
}

function refuse(res: Response, landing: string, error: ApiError): void {
  sendPage(res, error.status, loginPage(landing, error.message));
}

function loginPage(landing: string, error?: string) {
  return {
    title: 'Log in · Ticketflow',
    body: `<main class="card">
<h1>Ticketflow operations</h1>
<p>Paste an <code>ops</code> token (a JWT with <code>role: ops</code>). The session lasts as long
as the token; it is read-only unless the token's <code>scope</code> has <code>ops:write</code>.</p>
<form method="post" action="${ADMIN_PATH}/login">
<label for="token">Token</label>
<p><input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required></p>
<input type="hidden" name="next" value="${escapeHtml(landing)}">
<p><button type="submit">Log in</button></p>
</form>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
</main>`,
  };
}

/**
 * Where to go after logging in: a dashboard path, or the queues. Anything else (another host,
 * `//evil.example`, a backslash some browsers read as a slash) is an open redirect, ignored.
 */
function landingOf(next: unknown): string {
  return typeof next === 'string' &&
    next.length <= 2048 &&
    LANDING.test(next) &&
    !next.includes('//') &&
    !next.startsWith(`${ADMIN_PATH}/login`)
    ? next
    : HOME;
}

/** A dashboard path in URL characters only: no backslash, space or control character. */
const LANDING = new RegExp(`^${ADMIN_PATH}/[A-Za-z0-9\\-._~!$&'()*+,;=:@%/?#]*$`);
