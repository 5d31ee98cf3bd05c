import type { Config } from '@ticketflow/config';
import { ROLES, signToken, type Role } from '@ticketflow/ingress';
import { CliFailure, signingSecret } from '../runtime.ts';

export interface TokenOptions {
  role: string;
  sub: string;
  clientid?: string;
  admin?: string;
  scope?: string;
  ttl: string;
}

/** Prints a signed token (HS256 with TICKETFLOW_JWT_SECRET). */
export function token(config: Config, options: TokenOptions): void {
  if (!(ROLES as readonly string[]).includes(options.role)) {
    throw new CliFailure(`--role must be one of ${ROLES.join(', ')}`);
  }
  const role = options.role as Role;
  const clientid = options.clientid === undefined ? undefined : Number(options.clientid);
  if (role === 'client' && !(Number.isInteger(clientid) && clientid! > 0)) {
    throw new CliFailure('--clientid (a positive integer) is required for a client token');
  }
  process.stdout.write(
    signToken({
      secret: signingSecret(config),
      audience: config.jwt.audience,
      issuer: config.jwt.issuer,
      role,
      sub: options.sub,
      ...(clientid !== undefined ? { clientid } : {}),
      ...(options.admin !== undefined ? { admin: options.admin } : {}),
      ...(options.scope !== undefined ? { scope: options.scope } : {}),
      ttlSeconds: parseTtl(options.ttl),
    }) + '\n',
  );
}

/** `90`, `90s`, `15m`, `12h`, `7d` → seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0)
    throw new CliFailure(`--ttl: expected a duration such as 3600, 15m, 12h or 7d, got "${text}"`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
