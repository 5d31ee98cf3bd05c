import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Role } from './principal.ts';

export interface TokenRequest {
  secret: string;
  audience: string;
  issuer: string | undefined;
  role: Role;
  sub: string;
  clientid?: number;
  admin?: string;
  scope?: string;
  ttlSeconds: number;
}

/** Signs an HS256 token with the claims verify-token requires (`ticketflow token`, demo, tests). */
export function signToken(request: TokenRequest): string {
  const claims: Record<string, unknown> = { role: request.role };
  if (request.clientid !== undefined) claims.clientid = request.clientid;
  if (request.admin !== undefined) claims.admin = request.admin;
  if (request.scope !== undefined) claims.scope = request.scope;
  return jwt.sign(claims, request.secret, {
    algorithm: 'HS256',
    subject: request.sub,
    audience: request.audience,
    expiresIn: request.ttlSeconds,
    // Unique per token, so two tokens signed in the same second still differ.
    jwtid: randomUUID(),
    ...(request.issuer ? { issuer: request.issuer } : {}),
  });
}
