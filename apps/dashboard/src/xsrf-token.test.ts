import { describe, expect, it } from 'vitest';
import { dashboardCookie, readCookie } from './cookies.ts';
import { createXsrfTokens } from './xsrf-token.ts';

describe('createXsrfTokens', () => {
  const secret = 'a'.repeat(32);

  it('gives every process with the same secret the same token for a session', () => {
    expect(createXsrfTokens(secret).tokenFor('session-1')).toBe(
      createXsrfTokens(secret).tokenFor('session-1'),
    );
  });

  it('binds the token to its session and to the secret', () => {
    const tokens = createXsrfTokens(secret);
    const token = tokens.tokenFor('session-1');
    expect(tokens.matches('session-1', token)).toBe(true);
    expect(tokens.matches('session-2', token)).toBe(false);
    expect(createXsrfTokens('b'.repeat(32)).matches('session-1', token)).toBe(false);
    expect(tokens.matches('session-1', undefined)).toBe(false);
    expect(tokens.matches('session-1', '')).toBe(false);
    expect(tokens.matches('session-1', token + 'x')).toBe(false);
  });
});

describe('dashboard cookies', () => {
  it('are SameSite=Strict under /admin, Secure over TLS only', () => {
    expect(dashboardCookie('a', 'b', { maxAgeSeconds: 90.7, httpOnly: true, secure: true })).toBe(
      'a=b; Max-Age=90; Path=/admin; SameSite=Strict; HttpOnly; Secure',
    );
    expect(dashboardCookie('a', '', { maxAgeSeconds: -5, httpOnly: false, secure: false })).toBe(
      'a=; Max-Age=0; Path=/admin; SameSite=Strict',
    );
  });

  it('are read by exact name from a Cookie header', () => {
    const header = 'XSRF-TOKEN=x1; ticketflow_session=ey.a.b; other_ticketflow_session=no';
    expect(readCookie(header, 'ticketflow_session')).toBe('ey.a.b');
    expect(readCookie(header, 'XSRF-TOKEN')).toBe('x1');
    expect(readCookie(header, 'missing')).toBeUndefined();
    expect(readCookie(undefined, 'XSRF-TOKEN')).toBeUndefined();
  });
});
