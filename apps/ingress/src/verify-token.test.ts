import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { ApiError } from '@ticketflow/contract';
import type { Principal } from './principal.ts';
import { createTokenVerifier } from './verify-token.ts';

const SECRET = randomBytes(32).toString('hex');
const AUDIENCE = 'ticketflow';
const ISSUER = 'https://auth.example';

const verifyHs256 = createTokenVerifier({
  key: { kind: 'secret', secret: SECRET },
  audience: AUDIENCE,
  issuer: undefined,
});

const now = () => Math.floor(Date.now() / 1000);

/** Claims of a token that verifies, unless a test overrides one; `undefined` removes a claim. */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const all = {
    sub: 'client-7',
    role: 'client',
    clientid: 7,
    aud: AUDIENCE,
    exp: now() + 600,
    ...extra,
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

function hs256(payload: Record<string, unknown>, secret = SECRET): string {
  return jwt.sign(payload, secret, { algorithm: 'HS256' });
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** A token put together by hand, for what jsonwebtoken refuses to sign (alg none, key confusion). */
function handMadeToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  sign: (signingInput: string) => string,
): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${signingInput}.${sign(signingInput)}`;
}

/** Runs the verifier and returns the ApiError it throws (failing the test if it returns). */
function refusal(
  verify: (authorization: string | undefined) => Principal,
  authorization: string | undefined,
): ApiError {
  let principal: Principal | undefined;
  try {
    principal = verify(authorization);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error(`the token was accepted as ${JSON.stringify(principal)}`);
}

/** Asserts a 401 invalid_token refusal with the bearer challenge of RFC 6750 §3. */
function expectInvalidToken(error: ApiError, reason?: RegExp): void {
  expect(error.status).toBe(401);
  expect(error.code).toBe('invalid_token');
  expect(error.headers).toEqual({ 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  expect(error.message).toMatch(/^Authentication Failed: /);
  if (reason) expect(error.message).toMatch(reason);
}

describe('createTokenVerifier with an HS256 secret', () => {
  it('turns a client token into a principal acting for its clientid', () => {
    const exp = now() + 600;
    expect(verifyHs256(`Bearer ${hs256(claims({ exp }))}`)).toEqual({
      sub: 'client-7',
      role: 'client',
      clientid: 7,
      admin: undefined,
      scopes: [],
      exp,
    });
  });

  it('turns a staff token into a principal carrying its admin display name', () => {
    const principal = verifyHs256(
      `Bearer ${hs256(claims({ sub: 'staff-1', role: 'staff', clientid: undefined, admin: 'Alice Admin' }))}`,
    );
    expect(principal).toMatchObject({
      sub: 'staff-1',
      role: 'staff',
      clientid: undefined,
      admin: 'Alice Admin',
    });
  });

  it('turns a bridge token into a principal without a client', () => {
    const principal = verifyHs256(
      `Bearer ${hs256(claims({ sub: 'mail-bridge', role: 'bridge', clientid: undefined }))}`,
    );
    expect(principal).toMatchObject({
      sub: 'mail-bridge',
      role: 'bridge',
      clientid: undefined,
      admin: undefined,
    });
  });

  it('turns an ops token into a principal with its space-separated scopes', () => {
    const principal = verifyHs256(
      `Bearer ${hs256(claims({ sub: 'ops-1', role: 'ops', clientid: undefined, scope: 'ops:read  ops:write' }))}`,
    );
    expect(principal).toMatchObject({
      sub: 'ops-1',
      role: 'ops',
      scopes: ['ops:read', 'ops:write'],
    });
  });

  it('ignores a clientid claim on a token that is not a client token', () => {
    const principal = verifyHs256(
      `Bearer ${hs256(claims({ role: 'staff', clientid: 7, admin: 'Bob' }))}`,
    );
    expect(principal.clientid).toBeUndefined();
  });

  it('accepts the bearer scheme in any case', () => {
    expect(verifyHs256(`bearer ${hs256(claims())}`).sub).toBe('client-7');
  });

  it('accepts a token that expired within the 30 s clock tolerance', () => {
    expect(verifyHs256(`Bearer ${hs256(claims({ exp: now() - 10 }))}`).sub).toBe('client-7');
  });

  it('accepts a token whose nbf is within the 30 s clock tolerance', () => {
    expect(verifyHs256(`Bearer ${hs256(claims({ nbf: now() + 10 }))}`).sub).toBe('client-7');
  });

  describe('refuses with 401 invalid_token', () => {
    it('an unsigned token (alg: none attack)', () => {
      const token = handMadeToken({ alg: 'none', typ: 'JWT' }, claims(), () => '');
      expectInvalidToken(refusal(verifyHs256, `Bearer ${token}`), /alg: none|not allowed/);
    });

    it('an unsigned token (alg: none) that still carries the signature of a valid token', () => {
      const valid = hs256(claims());
      const signature = valid.split('.')[2]!;
      const token = handMadeToken({ alg: 'none', typ: 'JWT' }, claims(), () => signature);
      expectInvalidToken(refusal(verifyHs256, `Bearer ${token}`));
    });

    it('an HS512 token signed with the right secret (algorithm not on the allow-list)', () => {
      const token = jwt.sign(claims(), SECRET, { algorithm: 'HS512' });
      expectInvalidToken(refusal(verifyHs256, `Bearer ${token}`), /algorithm is not allowed/);
    });

    it('a token signed with another secret (forged signature)', () => {
      const token = hs256(
        claims({ role: 'staff', admin: 'Mallory' }),
        randomBytes(32).toString('hex'),
      );
      expectInvalidToken(refusal(verifyHs256, `Bearer ${token}`), /invalid signature/);
    });

    it('a token whose payload was altered after signing', () => {
      const [header, , signature] = hs256(claims()).split('.');
      const tampered = base64url(JSON.stringify(claims({ role: 'staff', admin: 'Mallory' })));
      expectInvalidToken(
        refusal(verifyHs256, `Bearer ${header}.${tampered}.${signature}`),
        /invalid signature/,
      );
    });

    it('a token that expired beyond the 30 s clock tolerance', () => {
      const token = hs256(claims({ exp: now() - 60 }));
      expectInvalidToken(refusal(verifyHs256, `Bearer ${token}`), /token expired/);
    });

    it('a token whose nbf lies beyond the clock tolerance in the future', () => {
      const token = hs256(claims({ nbf: now() + 300 }));
      expectInvalidToken(refusal(verifyHs256, `Bearer ${token}`), /not yet valid/);
    });

    it('a token for another audience', () => {
      const token = hs256(claims({ aud: 'another-service' }));
      expectInvalidToken(refusal(verifyHs256, `Bearer ${token}`), /wrong audience/);
    });

    it('a token with no audience', () => {
      const token = hs256(claims({ aud: undefined }));
      expectInvalidToken(refusal(verifyHs256, `Bearer ${token}`), /wrong audience/);
    });

    it('a token from another issuer when an issuer is configured', () => {
      const verify = createTokenVerifier({
        key: { kind: 'secret', secret: SECRET },
        audience: AUDIENCE,
        issuer: ISSUER,
      });
      expect(verify(`Bearer ${hs256(claims({ iss: ISSUER }))}`).sub).toBe('client-7');
      expectInvalidToken(
        refusal(verify, `Bearer ${hs256(claims({ iss: 'https://evil.example' }))}`),
        /wrong issuer/,
      );
      expectInvalidToken(refusal(verify, `Bearer ${hs256(claims())}`), /wrong issuer/);
    });

    it('a token without exp (it would never die if leaked)', () => {
      const token = hs256(claims({ exp: undefined }));
      expectInvalidToken(refusal(verifyHs256, `Bearer ${token}`), /no exp/);
    });

    it('a token without sub', () => {
      expectInvalidToken(
        refusal(verifyHs256, `Bearer ${hs256(claims({ sub: undefined }))}`),
        /no sub/,
      );
      expectInvalidToken(refusal(verifyHs256, `Bearer ${hs256(claims({ sub: '' }))}`), /no sub/);
    });

    it('a token with an unknown role or none', () => {
      expectInvalidToken(
        refusal(verifyHs256, `Bearer ${hs256(claims({ role: 'admin' }))}`),
        /role must be one of/,
      );
      expectInvalidToken(
        refusal(verifyHs256, `Bearer ${hs256(claims({ role: undefined }))}`),
        /role must be one of/,
      );
      expectInvalidToken(
        refusal(verifyHs256, `Bearer ${hs256(claims({ role: ['staff'] }))}`),
        /role must be one of/,
      );
    });

    it('a client token without a positive integer clientid', () => {
      for (const clientid of [undefined, 0, -3, 1.5, '7', null]) {
        const token = hs256(claims({ clientid }));
        expectInvalidToken(refusal(verifyHs256, `Bearer ${token}`), /clientid/);
      }
    });

    it('malformed token strings', () => {
      const valid = hs256(claims());
      for (const token of [
        'abc',
        'a.b.c',
        'a.b',
        `${valid}.extra`,
        valid.slice(0, -5),
        `${base64url('not json')}.${base64url('{}')}.`,
        `${valid.split('.')[0]}.${base64url('[1,2]')}.${valid.split('.')[2]}`,
      ]) {
        expectInvalidToken(refusal(verifyHs256, `Bearer ${token}`));
      }
    });
  });

  describe('refuses with 401 missing_bearer_token', () => {
    it('a request without an Authorization header, or with another scheme', () => {
      for (const authorization of [
        undefined,
        '',
        'Bearer',
        'Bearer ',
        'Basic dXNlcjpwYXNz',
        hs256(claims()),
      ]) {
        const error = refusal(verifyHs256, authorization);
        expect(error.status).toBe(401);
        expect(error.code).toBe('missing_bearer_token');
        expect(error.message).toBe('Authentication Failed: missing bearer token');
        expect(error.headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
      }
    });
  });
});

describe('createTokenVerifier with a public key', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const ecPublicPem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const verifyRsa = createTokenVerifier({
    key: { kind: 'public-key', pem: rsaPublicPem },
    audience: AUDIENCE,
    issuer: undefined,
  });
  const verifyEc = createTokenVerifier({
    key: { kind: 'public-key', pem: ecPublicPem },
    audience: AUDIENCE,
    issuer: undefined,
  });

  it('accepts an RS256 token signed with the matching private key', () => {
    const token = jwt.sign(claims(), rsa.privateKey, { algorithm: 'RS256' });
    expect(verifyRsa(`Bearer ${token}`)).toMatchObject({
      sub: 'client-7',
      role: 'client',
      clientid: 7,
    });
  });

  it('accepts an ES256 token signed with the matching private key', () => {
    const token = jwt.sign(claims({ role: 'staff', admin: 'Eve' }), ec.privateKey, {
      algorithm: 'ES256',
    });
    expect(verifyEc(`Bearer ${token}`)).toMatchObject({
      sub: 'client-7',
      role: 'staff',
      admin: 'Eve',
    });
  });

  it('refuses an RS256 token signed with another private key', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = jwt.sign(claims(), other.privateKey, { algorithm: 'RS256' });
    expectInvalidToken(refusal(verifyRsa, `Bearer ${token}`), /invalid signature/);
  });

  it('refuses an HS256 token signed with the public key PEM as the HMAC secret (algorithm confusion)', () => {
    for (const [verify, pem] of [
      [verifyRsa, rsaPublicPem],
      [verifyEc, ecPublicPem],
    ] as const) {
      const token = handMadeToken(
        { alg: 'HS256', typ: 'JWT' },
        claims({ role: 'staff', admin: 'Mallory' }),
        (input) => createHmac('sha256', pem).update(input).digest('base64url'),
      );
      expectInvalidToken(refusal(verify, `Bearer ${token}`), /algorithm is not allowed/);
    }
  });

  it('refuses an HS256 token under a public-key configuration', () => {
    expectInvalidToken(refusal(verifyRsa, `Bearer ${hs256(claims())}`), /algorithm is not allowed/);
  });

  it('refuses an unsigned token (alg: none attack) under a public-key configuration', () => {
    const token = handMadeToken({ alg: 'none', typ: 'JWT' }, claims(), () => '');
    expectInvalidToken(refusal(verifyRsa, `Bearer ${token}`));
  });

  it('still checks expiry and audience of a well-signed RS256 token', () => {
    const expired = jwt.sign(claims({ exp: now() - 60 }), rsa.privateKey, { algorithm: 'RS256' });
    expectInvalidToken(refusal(verifyRsa, `Bearer ${expired}`), /token expired/);
    const elsewhere = jwt.sign(claims({ aud: 'elsewhere' }), rsa.privateKey, {
      algorithm: 'RS256',
    });
    expectInvalidToken(refusal(verifyRsa, `Bearer ${elsewhere}`), /wrong audience/);
  });
});
