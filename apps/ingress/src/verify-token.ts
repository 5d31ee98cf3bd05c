import { createPublicKey, createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { apiErrorWithHeaders, type ApiError } from '@ticketflow/contract';
import { ROLES, type Principal, type Role } from './principal.ts';

/** The key tokens are checked with, and the algorithms that key may sign. */
export type VerificationKey =
  { kind: 'secret'; secret: string } | { kind: 'public-key'; pem: string };

export interface TokenRules {
  key: VerificationKey;
  audience: string;
  issuer: string | undefined;
}

/** Seconds of clock skew tolerated on exp/nbf (API.md §2). */
const CLOCK_TOLERANCE_S = 30;

/** Verified tokens remembered at once; a busy ingress sees far fewer distinct tokens. */
const TOKEN_CACHE_SIZE = 10_000;

/**
 * Builds the verifier of `Authorization: Bearer <JWT>`. The algorithm allow-list follows the
 * key: HS256 for a shared secret, RS256/ES256 for a public key, so a token "signed" with the
 * public key as an HMAC secret, or with `alg: none`, never verifies.
 */
export function createTokenVerifier(
  rules: TokenRules,
): (authorization: string | undefined) => Principal {
  const algorithms: jwt.Algorithm[] = rules.key.kind === 'secret' ? ['HS256'] : ['RS256', 'ES256'];
  // A KeyObject built once: given a string, jsonwebtoken re-parses it (as a PEM first) per call.
  const key =
    rules.key.kind === 'secret'
      ? createSecretKey(Buffer.from(rules.key.secret, 'utf8'))
      : createPublicKey(rules.key.pem);
  // Integrations send the same token thousands of times: a verified token is remembered until
  // it expires, so the signature check (an RSA verify costs ~50 µs) runs once per token.
  const verified = new Map<string, Principal>();
  return (authorization) => {
    const token = bearerToken(authorization);
    const known = verified.get(token);
    if (known && known.exp + CLOCK_TOLERANCE_S > Date.now() / 1000) return known;
    verified.delete(token);
    let claims: jwt.JwtPayload;
    try {
      const decoded = jwt.verify(token, key, {
        algorithms,
        audience: rules.audience,
        ...(rules.issuer ? { issuer: rules.issuer } : {}),
        clockTolerance: CLOCK_TOLERANCE_S,
      });
      if (typeof decoded === 'string') throw invalid('the token payload is not a JSON object');
      claims = decoded;
    } catch (error) {
      throw isApiError(error) ? error : invalid(describeJwtError(error));
    }
    const principal = toPrincipal(claims);
    // Oldest first out: a Map keeps insertion order.
    if (verified.size >= TOKEN_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, principal);
    return principal;
  };
}

function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) {
    throw apiErrorWithHeaders({ 'WWW-Authenticate': 'Bearer' }, 'missing_bearer_token');
  }
  return match[1];
}

function toPrincipal(claims: jwt.JwtPayload): Principal {
  // jsonwebtoken accepts a token without exp; API.md §2 requires one, so a leaked token dies.
  if (typeof claims.exp !== 'number') throw invalid('the token has no exp claim');
  if (typeof claims.sub !== 'string' || claims.sub === '')
    throw invalid('the token has no sub claim');
  const role = claims.role as unknown;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw invalid(`role must be one of ${ROLES.join(', ')}`);
  }
  const clientid = claims.clientid as unknown;
  if (role === 'client' && !(Number.isInteger(clientid) && (clientid as number) > 0)) {
    throw invalid('a client token needs a positive integer clientid claim');
  }
  const scope = claims.scope as unknown;
  return {
    sub: claims.sub,
    role: role as Role,
    clientid: role === 'client' ? (clientid as number) : undefined,
    admin: typeof claims.admin === 'string' && claims.admin !== '' ? claims.admin : undefined,
    scopes: typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [],
    exp: claims.exp,
  };
}

function describeJwtError(error: unknown): string {
  if (error instanceof jwt.TokenExpiredError) return 'token expired';
  if (error instanceof jwt.NotBeforeError) return 'token not yet valid';
  if (error instanceof jwt.JsonWebTokenError) {
    const m = error.message;
    if (m === 'invalid algorithm') return 'token algorithm is not allowed';
    if (m === 'invalid signature') return 'invalid signature';
    if (m.startsWith('jwt audience invalid')) return 'wrong audience';
    if (m.startsWith('jwt issuer invalid')) return 'wrong issuer';
    if (m === 'jwt signature is required') return 'unsigned tokens (alg: none) are not accepted';
    return 'malformed token';
  }
  return 'malformed token';
}

function invalid(reason: string): ApiError {
  return apiErrorWithHeaders(
    { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    'invalid_token',
    reason,
  );
}

function isApiError(error: unknown): error is ApiError {
  return (error as { name?: string } | null)?.name === 'ApiError';
}
