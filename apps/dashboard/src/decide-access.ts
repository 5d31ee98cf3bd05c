import { apiError, apiErrorWithHeaders, type ApiError } from '@ticketflow/contract';
import type { Principal } from '@ticketflow/ingress';

/** The scope (OAuth style, in the token's space-separated `scope`) that allows changes. */
const WRITE_SCOPE = 'ops:write';

/** Who is asking, as far as the request shows. */
export type Credential =
  | { kind: 'none' }
  /** A script's `Authorization: Bearer` header: the browser never adds it on its own. */
  | { kind: 'bearer'; principal: Principal }
  /** The session cookie, which the browser sends by itself: the XSRF check applies. */
  | { kind: 'session'; principal: Principal; xsrfValid: boolean };

/** What the request is, in the terms the rules need. */
export interface AccessRequest {
  method: string;
  /** A JSON endpoint (bull-board's `/queues/api/…`, our POSTs): answer errors, never redirect. */
  isApi: boolean;
  /** Logging out changes nothing but the caller's own cookies. */
  isLogout: boolean;
}

type Access =
  | { kind: 'allow'; principal: Principal; canWrite: boolean }
  /** A person in a browser without a session: off to the login page. */
  | { kind: 'login' }
  | { kind: 'refuse'; error: ApiError };

/**
 * The dashboard's rules (API.md §2, §12), in order: a session or a bearer token; the `ops` role
 * and no other; for a state-changing method, the session's XSRF token and then `ops:write`.
 * Checking the XSRF token before the scope keeps a forged request from learning anything about
 * the victim's session.
 */
export function decideAccess(request: AccessRequest, credential: Credential): Access {
  const changes = !isSafeMethod(request.method);
  if (credential.kind === 'none') {
    return request.isApi || changes
      ? {
          kind: 'refuse',
          error: apiErrorWithHeaders({ 'WWW-Authenticate': 'Bearer' }, 'login_required'),
        }
      : { kind: 'login' };
  }
  const { principal } = credential;
  if (principal.role !== 'ops') {
    return { kind: 'refuse', error: apiError('forbidden', 'the dashboard takes ops tokens only') };
  }
  const canWrite = principal.scopes.includes(WRITE_SCOPE);
  if (changes) {
    if (credential.kind === 'session' && !credential.xsrfValid) {
      return { kind: 'refuse', error: apiError('xsrf_token_invalid') };
    }
    if (!canWrite && !request.isLogout) {
      return {
        kind: 'refuse',
        error: apiError(
          'forbidden',
          `this session is read-only; changes need a token with ${WRITE_SCOPE} in its scope`,
        ),
      };
    }
  }
  return { kind: 'allow', principal, canWrite };
}

function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}
