/** Where the dashboard is mounted: its cookies are sent only under this path. */
export const ADMIN_PATH = '/admin';

/** The session cookie: HttpOnly, so page scripts (and an injected one) never read it. */
export const SESSION_COOKIE = 'ticketflow_session';
/** The double-submit cookie; the name axios reads by default (`xsrfCookieName`). */
export const XSRF_COOKIE = 'XSRF-TOKEN';

/** The value of cookie `name` in a `Cookie` header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * A `Set-Cookie` value for the dashboard: always `SameSite=Strict` (no cross-site request ever
 * carries it) and `Path=/admin`; `Secure` when the request came over TLS, so a development
 * server on plain http still works. `maxAgeSeconds` 0 deletes the cookie.
 */
export function dashboardCookie(
  name: string,
  value: string,
  options: { maxAgeSeconds: number; httpOnly: boolean; secure: boolean },
): string {
  return [
    `${name}=${value}`,
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    `Path=${ADMIN_PATH}`,
    'SameSite=Strict',
    ...(options.httpOnly ? ['HttpOnly'] : []),
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
