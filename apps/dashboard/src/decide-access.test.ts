import { describe, expect, it } from 'vitest';
import type { Principal } from '@ticketflow/ingress';
import { decideAccess, type AccessRequest, type Credential } from './decide-access.ts';

function principal(role: Principal['role'], scopes: string[] = []): Principal {
  return { sub: `${role}-1`, role, clientid: undefined, admin: undefined, scopes, exp: 2e9 };
}

const page: AccessRequest = { method: 'GET', isApi: false, isLogout: false };
const api: AccessRequest = { method: 'GET', isApi: true, isLogout: false };
const change: AccessRequest = { method: 'PUT', isApi: true, isLogout: false };
const logout: AccessRequest = { method: 'POST', isApi: false, isLogout: true };

const session = (p: Principal, xsrfValid = true): Credential => ({
  kind: 'session',
  principal: p,
  xsrfValid,
});

function code(request: AccessRequest, credential: Credential): string {
  const access = decideAccess(request, credential);
  return access.kind === 'refuse' ? access.error.code : access.kind;
}

describe('decideAccess', () => {
  it('sends a browser without a session to the login page, and answers its API calls 401', () => {
    expect(code(page, { kind: 'none' })).toBe('login');
    expect(code(api, { kind: 'none' })).toBe('login_required');
    expect(code(change, { kind: 'none' })).toBe('login_required');
    expect(code(logout, { kind: 'none' })).toBe('login_required');
  });

  it.each(['client', 'staff', 'bridge'] as const)(
    'refuses a %s token however it is presented',
    (role) => {
      const p = principal(role, ['ops:write']);
      for (const request of [page, api, change]) {
        expect(code(request, session(p))).toBe('forbidden');
        expect(code(request, { kind: 'bearer', principal: p })).toBe('forbidden');
      }
    },
  );

  it('lets a read-only session read and log out, and nothing else', () => {
    const p = principal('ops', ['ops:read']);
    expect(decideAccess(page, session(p))).toEqual({
      kind: 'allow',
      principal: p,
      canWrite: false,
    });
    expect(code(api, session(p))).toBe('allow');
    expect(code(logout, session(p))).toBe('allow');
    expect(code(change, session(p))).toBe('forbidden');
    expect(code({ ...change, method: 'POST' }, session(p))).toBe('forbidden');
    expect(code({ ...change, method: 'DELETE' }, { kind: 'bearer', principal: p })).toBe(
      'forbidden',
    );
  });

  it('checks a session’s XSRF token on every change, before its scope', () => {
    expect(code(change, session(principal('ops', ['ops:write']), false))).toBe(
      'xsrf_token_invalid',
    );
    expect(code(change, session(principal('ops'), false))).toBe('xsrf_token_invalid');
    expect(code(logout, session(principal('ops'), false))).toBe('xsrf_token_invalid');
    // A GET changes nothing: no token needed.
    expect(code(api, session(principal('ops'), false))).toBe('allow');
  });

  it('lets an ops:write session or bearer token change things', () => {
    const p = principal('ops', ['ops:read', 'ops:write']);
    expect(decideAccess(change, session(p))).toEqual({
      kind: 'allow',
      principal: p,
      canWrite: true,
    });
    // A header is never sent by the browser on its own, so there is nothing to forge.
    expect(code(change, { kind: 'bearer', principal: p })).toBe('allow');
  });

  it('reads the scope as whole words: ops:writer or ops:write:all is not ops:write', () => {
    expect(code(change, session(principal('ops', ['ops:writer', 'ops:write:all'])))).toBe(
      'forbidden',
    );
  });
});
