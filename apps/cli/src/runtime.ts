import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { ConfigError, parseConfig, type Config } from '@ticketflow/config';
import { createTokenVerifier, type Principal, type VerificationKey } from '@ticketflow/ingress';

/** Thrown for a failed check; main prints the message on one line and exits 1. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
}

/** Parses the environment once; a bad value ends the process naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new CliFailure(`configuration: ${error.message.replace(/\n/g, '; ')}`);
    throw error;
  }
}

/**
 * JSON lines on stdout, written off the event loop: a synchronous write per access-log line
 * was 2.5 % of the ingress's busy CPU in a profile. Lines written while one write is in flight
 * go out together; what is pending is flushed when the process exits.
 */
export function createLogger(config: Config): Logger {
  return pino(
    { level: config.logLevel, base: { service: 'ticketflow' } },
    pino.destination({ dest: 1, sync: false }),
  );
}

/** The token verification key: the HS256 secret, or the PEM public key file read now. */
function loadVerificationKey(config: Config): VerificationKey {
  if (config.jwt.publicKeyFile) {
    try {
      return { kind: 'public-key', pem: readFileSync(config.jwt.publicKeyFile, 'utf8') };
    } catch (error) {
      throw new CliFailure(
        `TICKETFLOW_JWT_PUBLIC_KEY_FILE: cannot read ${config.jwt.publicKeyFile} (${(error as Error).message})`,
      );
    }
  }
  return { kind: 'secret', secret: signingSecret(config) };
}

/**
 * The key and a verifier of bearer tokens with the configured audience and issuer: one per
 * process, so the API and `/metrics` share its cache of verified tokens. Warns when that key is
 * the built-in development secret.
 */
export function loadTokenVerifier(
  config: Config,
  logger: Logger,
): {
  key: VerificationKey;
  verifyToken: (authorization: string | undefined) => Principal;
} {
  if (config.jwt.usesDevSecret) {
    logger.warn(
      'TICKETFLOW_JWT_SECRET is not set: using the built-in development secret; set it in production',
    );
  }
  const key = loadVerificationKey(config);
  return {
    key,
    verifyToken: createTokenVerifier({
      key,
      audience: config.jwt.audience,
      issuer: config.jwt.issuer,
    }),
  };
}

/** The HS256 secret tokens are signed with (`token`, `demo`). */
export function signingSecret(config: Config): string {
  if (!config.jwt.secret) {
    throw new CliFailure(
      'tokens are verified with a public key here; sign them with your identity provider, or set TICKETFLOW_JWT_SECRET instead',
    );
  }
  return config.jwt.secret;
}
