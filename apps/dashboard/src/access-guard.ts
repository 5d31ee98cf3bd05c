import type { NextFunction, Request, Response } from 'express';
import type { Principal } from '@ticketflow/ingress';
import { ADMIN_PATH, dashboardCookie, readCookie, SESSION_COOKIE, XSRF_COOKIE } from './cookies.ts';
import { decideAccess, type Credential } from './decide-access.ts';
import type { XsrfTokens } from './xsrf-token.ts';

/** Who the request acts for, once the guard let it through. */
export interface Session {
  principal: Principal;
  canWrite: boolean;
}

interface GuardDeps {
  verifyToken: (authorization: string | undefined) => Principal;
  xsrf: XsrfTokens;
}

/**
 * Every dashboard request but the login page passes here: it reads the credential, applies
 * {@link decideAccess} and either lets the request through (the session in `res.locals`),
 * redirects a browser to the login page, or hands the refusal to the ingress error responder.
 */
export function createAccessGuard(deps: GuardDeps) {
  return function guardAccess(req: Request, res: Response, next: NextFunction): void {
    let credential: Credential;
    try {
      credential = readCredential(req, res, deps);
    } catch (error) {
      // A bearer header that does not verify: the verifier's 401, as the API gives it.
      return next(error);
    }
    const access = decideAccess(
      {
        method: req.method,
        isApi: req.path.startsWith('/queues/api/'),
        isLogout: req.path === '/logout',
      },
      credential,
    );
    switch (access.kind) {
      case 'allow':
        (res.locals as { session?: Session }).session = {
          principal: access.principal,
          canWrite: access.canWrite,
        };
        return next();
      case 'login':
        return res.redirect(303, `${ADMIN_PATH}/login?next=${encodeURIComponent(req.originalUrl)}`);
      case 'refuse':
        return next(access.error);
    }
  };
}

/** The session the guard let through; only handlers behind the guard call this. */
export function sessionOf(res: Response): Session {
  const session = (res.locals as { session?: Session }).session;
  if (!session) throw new Error('dashboard handler mounted in front of the access guard');
  return session;
}

function readCredential(req: Request, res: Response, deps: GuardDeps): Credential {
  if (req.headers.authorization !== undefined) {
    return { kind: 'bearer', principal: deps.verifyToken(req.headers.authorization) };
  }
  const session = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (session === undefined) return { kind: 'none' };
  let principal: Principal;
  try {
    // The cookie holds the token itself and it is verified again on every request, so the
    // session ends when the token expires or the key that signed it is rotated out.
    principal = deps.verifyToken(`Bearer ${session}`);
  } catch {
    res.append('Set-Cookie', clearedCookies(req));
    return { kind: 'none' };
  }
  const xsrfValid = deps.xsrf.matches(session, req.get('x-xsrf-token'));
  return { kind: 'session', principal, xsrfValid };
}

/** `Set-Cookie` values that delete both dashboard cookies. */
export function clearedCookies(req: Request): string[] {
  return [SESSION_COOKIE, XSRF_COOKIE].map((name) =>
    dashboardCookie(name, '', {
      maxAgeSeconds: 0,
      httpOnly: name === SESSION_COOKIE,
      secure: req.secure,
    }),
  );
}
