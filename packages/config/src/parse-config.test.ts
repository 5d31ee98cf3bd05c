import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import {
  CONFIG_VARIABLES,
  ConfigError,
  DEV_JWT_SECRET,
  DEV_MAIL_SECRET,
  parseConfig,
} from './parse-config.ts';

const VALID_SECRET = 'a-shared-secret-of-at-least-32-chars!';

/** The message parseConfig throws for `env`, or a failure if it does not throw ConfigError. */
function configErrorOf(env: Record<string, string | undefined>): string {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`parseConfig accepted ${JSON.stringify(env)}`);
}

/** `NAME=value` pairs of .env.example, whose lines look like `# PORT=8080`. */
function readEnvExample(): Map<string, string> {
  const text = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
  const pairs = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^#\s?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const [, name = '', value = ''] = m;
    expect(pairs.has(name), `${name} is listed twice in .env.example`).toBe(false);
    pairs.set(name, value);
  }
  return pairs;
}

describe('parseConfig', () => {
  it('runs on an empty environment with the documented defaults', () => {
    expect(parseConfig({})).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/ticketflow',
      redisUrl: 'redis://127.0.0.1:6379',
      redisClusterNodes: [],
      port: 8080,
      queuePrefix: 'ticketflow',
      jwt: {
        secret: DEV_JWT_SECRET,
        publicKeyFile: undefined,
        usesDevSecret: true,
        audience: 'ticketflow',
        issuer: undefined,
      },
      corsOrigins: [],
      worker: {
        concurrency: 64,
        lockDurationMs: 30_000,
        stalledIntervalMs: 30_000,
        attempts: 6,
        backoffMs: 1000,
      },
      shutdownTimeoutMs: 10_000,
      dbPoolMax: 10,
      limits: {
        bodyBytes: 25 * 1024 * 1024,
        messageBytes: 256 * 1024,
        attachments: 10,
        attachmentBytes: 10 * 1024 * 1024,
        attachmentsTotalBytes: 25 * 1024 * 1024,
        attachmentExtensions: ['.jpg', '.gif', '.jpeg', '.png', '.txt', '.pdf'],
      },
      rateLimits: { perPrincipalPerMinute: 6000, perTicketPerMinute: 120 },
      idempotencyTtlHours: 48,
      blobSweep: { graceHours: 24, everyMinutes: 60 },
      inboundEmailRetentionDays: 30,
      mail: {
        smtpUrl: undefined,
        from: 'Ticketflow <helpdesk@ticketflow.localhost>',
        dir: '.ticketflow/mail',
        secret: DEV_MAIL_SECRET,
        usesDevSecret: true,
        attempts: 12,
        backoffMs: 5000,
      },
      bridge: {
        mailbox: 'support',
        subjectTag: '\\[Ticket ID: ([A-Za-z0-9-]{1,15})\\]',
        staff: [],
        allowStrangers: false,
        authservId: undefined,
        maxMessageBytes: 35 * 1024 * 1024,
      },
      webhooks: {
        // Svix: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
        scheduleMs: [5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 36e6],
        timeoutMs: 15_000,
        allowPrivate: false,
        disableAfterMs: 5 * 24 * 3_600_000,
        perEndpointConcurrency: 16,
      },
      notifyConcurrency: 64,
      outboxSweepMs: 30_000,
      watchdogMs: 20_000,
      faultPoints: [],
      logLevel: 'info',
      accessLog: true,
      metrics: true,
      production: false,
    });
  });

  it('treats empty and undefined variables as unset, so `PORT=` keeps the default', () => {
    const config = parseConfig({ PORT: '', TICKETFLOW_JWT_SECRET: '', REDIS_URL: undefined });
    expect(config.port).toBe(8080);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.jwt.usesDevSecret).toBe(true);
  });

  it('ignores variables it does not read', () => {
    expect(parseConfig({ HOME: '/root', PATH: '/usr/bin', TICKETFLOW_UNKNOWN: 'x' })).toEqual(
      parseConfig({}),
    );
  });

  it('reads numbers, strings and lists from their variables', () => {
    const config = parseConfig({
      DATABASE_URL: 'postgres://app:pw@db.internal:5433/tf',
      REDIS_URL: 'redis://cache.internal:6380/2',
      PORT: '3000',
      TICKETFLOW_QUEUE_PREFIX: '{ticketflow}',
      TICKETFLOW_JWT_AUDIENCE: 'helpdesk',
      TICKETFLOW_JWT_ISSUER: 'https://auth.example.com',
      TICKETFLOW_WORKER_CONCURRENCY: '4',
      TICKETFLOW_REPLY_ATTEMPTS: '3',
      TICKETFLOW_MAX_ATTACHMENTS: '0',
      TICKETFLOW_IDEMPOTENCY_TTL_HOURS: '24',
      TICKETFLOW_INBOUND_EMAIL_RETENTION_DAYS: '7',
      LOG_LEVEL: 'debug',
      TICKETFLOW_ACCESS_LOG: 'off',
    });
    expect(config.databaseUrl).toBe('postgres://app:pw@db.internal:5433/tf');
    expect(config.redisUrl).toBe('redis://cache.internal:6380/2');
    expect(config.port).toBe(3000);
    expect(config.queuePrefix).toBe('{ticketflow}');
    expect(config.jwt.audience).toBe('helpdesk');
    expect(config.jwt.issuer).toBe('https://auth.example.com');
    expect(config.worker.concurrency).toBe(4);
    expect(config.worker.attempts).toBe(3);
    expect(config.limits.attachments).toBe(0);
    expect(config.idempotencyTtlHours).toBe(24);
    expect(config.inboundEmailRetentionDays).toBe(7);
    expect(config.logLevel).toBe('debug');
    expect(config.accessLog).toBe(false);
  });

  it('accepts PORT=0 so tests can listen on an ephemeral port', () => {
    expect(parseConfig({ PORT: '0' }).port).toBe(0);
  });

  describe('a bad value stops start-up with one line naming the variable', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '65536'],
      ['PORT', '-1'],
      ['PORT', '80.5'],
      ['DATABASE_URL', 'not a url'],
      ['REDIS_URL', 'localhost'],
      ['TICKETFLOW_QUEUE_PREFIX', 'ticket:flow'],
      ['TICKETFLOW_QUEUE_PREFIX', 'ticket flow'],
      ['TICKETFLOW_WORKER_CONCURRENCY', '0'],
      ['TICKETFLOW_WORKER_CONCURRENCY', '1001'],
      ['TICKETFLOW_REPLY_ATTEMPTS', '51'],
      ['TICKETFLOW_IDEMPOTENCY_TTL_HOURS', '23'],
      ['TICKETFLOW_INBOUND_EMAIL_RETENTION_DAYS', '0'],
      ['TICKETFLOW_INBOUND_EMAIL_RETENTION_DAYS', '1.5'],
      ['TICKETFLOW_INBOUND_EMAIL_RETENTION_DAYS', '36501'],
      ['TICKETFLOW_MAX_BODY_BYTES', 'lots'],
      ['LOG_LEVEL', 'verbose'],
      ['TICKETFLOW_ACCESS_LOG', 'maybe'],
    ])('%s=%s', (name, value) => {
      const message = configErrorOf({ [name]: value });
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toMatch(new RegExp(`^${name}: \\S`));
    });

    it('TICKETFLOW_JWT_SECRET shorter than 32 characters, saying how long it must be', () => {
      expect(configErrorOf({ TICKETFLOW_JWT_SECRET: 'x'.repeat(31) })).toBe(
        'TICKETFLOW_JWT_SECRET: at least 32 characters',
      );
    });
  });

  it('lists every bad variable, one line each, not just the first', () => {
    const lines = configErrorOf({ PORT: 'abc', REDIS_URL: 'nope', LOG_LEVEL: 'loud' }).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((line) => line.split(':')[0]).sort()).toEqual([
      'LOG_LEVEL',
      'PORT',
      'REDIS_URL',
    ]);
  });

  it('refuses a JWT secret and a public key file together, against algorithm confusion', () => {
    const message = configErrorOf({
      TICKETFLOW_JWT_SECRET: VALID_SECRET,
      TICKETFLOW_JWT_PUBLIC_KEY_FILE: '/etc/ticketflow/jwt.pem',
    });
    expect(message).toBe(
      'TICKETFLOW_JWT_SECRET: set TICKETFLOW_JWT_SECRET or TICKETFLOW_JWT_PUBLIC_KEY_FILE, not both',
    );
  });

  describe('the development secret', () => {
    it('is used, and flagged, when neither a secret nor a public key file is set', () => {
      const { jwt } = parseConfig({});
      expect(jwt.usesDevSecret).toBe(true);
      expect(jwt.secret).toBe(DEV_JWT_SECRET);
      expect(jwt.publicKeyFile).toBeUndefined();
    });

    it('is not used when a secret is configured', () => {
      const { jwt } = parseConfig({ TICKETFLOW_JWT_SECRET: VALID_SECRET });
      expect(jwt.usesDevSecret).toBe(false);
      expect(jwt.secret).toBe(VALID_SECRET);
    });

    it('is not used when a public key file is configured, and no secret is then', () => {
      const { jwt } = parseConfig({ TICKETFLOW_JWT_PUBLIC_KEY_FILE: '/etc/ticketflow/jwt.pem' });
      expect(jwt.usesDevSecret).toBe(false);
      expect(jwt.secret).toBeUndefined();
      expect(jwt.publicKeyFile).toBe('/etc/ticketflow/jwt.pem');
    });
  });

  describe('TICKETFLOW_CORS_ORIGINS', () => {
    it('splits on commas and trims each origin', () => {
      expect(
        parseConfig({
          TICKETFLOW_CORS_ORIGINS: 'https://app.example.com, http://localhost:3000 ,https://x.io',
        }).corsOrigins,
      ).toEqual(['https://app.example.com', 'http://localhost:3000', 'https://x.io']);
    });

    it('drops empty entries left by stray commas', () => {
      expect(
        parseConfig({ TICKETFLOW_CORS_ORIGINS: ',https://a.example,, ,' }).corsOrigins,
      ).toEqual(['https://a.example']);
    });

    it('reads a single origin as a list of one', () => {
      expect(parseConfig({ TICKETFLOW_CORS_ORIGINS: 'https://a.example' }).corsOrigins).toEqual([
        'https://a.example',
      ]);
    });
  });

  it('lower-cases attachment extensions so `.PDF` in the environment allows `.pdf`', () => {
    expect(
      parseConfig({ TICKETFLOW_ATTACHMENT_EXTENSIONS: '.PDF, .Jpg,.txt' }).limits
        .attachmentExtensions,
    ).toEqual(['.pdf', '.jpg', '.txt']);
  });

  it.each([
    ['1', true],
    ['true', true],
    ['yes', true],
    ['on', true],
    ['0', false],
    ['false', false],
    ['no', false],
    ['off', false],
  ])('reads TICKETFLOW_ACCESS_LOG=%s as %s', (value, expected) => {
    expect(parseConfig({ TICKETFLOW_ACCESS_LOG: value }).accessLog).toBe(expected);
  });

  it('turns metrics off with TICKETFLOW_METRICS=off, so the bench can compare', () => {
    expect(parseConfig({ TICKETFLOW_METRICS: 'off' }).metrics).toBe(false);
  });

  it('reads NODE_ENV=production as production, and any other value as not', () => {
    expect(parseConfig({ NODE_ENV: 'production' }).production).toBe(true);
    expect(parseConfig({ NODE_ENV: 'staging' }).production).toBe(false);
  });

  describe('the result is frozen', () => {
    it('refuses to change a top-level field', () => {
      const config = parseConfig({});
      expect(Object.isFrozen(config)).toBe(true);
      expect(() => {
        (config as { port: number }).port = 1;
      }).toThrow(TypeError);
      expect(config.port).toBe(8080);
    });

    it('refuses to change nested objects and lists too', () => {
      const config = parseConfig({ TICKETFLOW_CORS_ORIGINS: 'https://a.example' });
      expect(() => {
        (config.jwt as { secret: string | undefined }).secret = 'stolen';
      }).toThrow(TypeError);
      expect(() => {
        (config.corsOrigins as string[]).push('https://evil.example');
      }).toThrow(TypeError);
      expect(() => {
        (config.limits.attachmentExtensions as string[])[0] = '.exe';
      }).toThrow(TypeError);
      expect(config.corsOrigins).toEqual(['https://a.example']);
      expect(config.limits.attachmentExtensions[0]).toBe('.jpg');
    });
  });
});

describe('Redis Cluster', () => {
  const cluster = { REDIS_CLUSTER_NODES: 'redis-a:7000,redis-b:7001' };

  it('reads the seed nodes, IPv6 in brackets too, with a hash-tagged prefix', () => {
    const config = parseConfig({
      REDIS_CLUSTER_NODES: 'redis-a:7000, 10.0.0.2:7001 ,[::1]:7002',
      TICKETFLOW_QUEUE_PREFIX: '{ticketflow}',
    });
    expect(config.redisClusterNodes).toEqual([
      { host: 'redis-a', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.queuePrefix).toBe('{ticketflow}');
  });

  it.each(['redis-a', 'redis-a:7000:1', 'redis-a:port', 'redis-a:0', 'redis-a:65536', ','])(
    'refuses REDIS_CLUSTER_NODES=%s in one line naming the variable',
    (value) => {
      const message = configErrorOf({ REDIS_CLUSTER_NODES: value, TICKETFLOW_QUEUE_PREFIX: '{t}' });
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toMatch(/^REDIS_CLUSTER_NODES(\.\d+)?: expected /);
    },
  );

  it('refuses a prefix without a hash tag, saying which prefix to set instead', () => {
    expect(configErrorOf(cluster)).toBe(
      'TICKETFLOW_QUEUE_PREFIX: "ticketflow" has no hash tag, and on Redis Cluster (REDIS_CLUSTER_NODES) all of a queue\'s keys must hash to one slot: set TICKETFLOW_QUEUE_PREFIX={ticketflow}',
    );
    // An empty tag is no tag: Redis then hashes the whole key.
    for (const prefix of ['tf', '{}tf', 'tf{', 'tf}{x']) {
      expect(configErrorOf({ ...cluster, TICKETFLOW_QUEUE_PREFIX: prefix })).toMatch(
        /^TICKETFLOW_QUEUE_PREFIX: .* has no hash tag/,
      );
    }
    for (const prefix of ['{tf}', 'tf-{a}', '{tf-1}-x']) {
      expect(parseConfig({ ...cluster, TICKETFLOW_QUEUE_PREFIX: prefix }).queuePrefix).toBe(prefix);
    }
  });

  it('keeps accepting any prefix on a single Redis', () => {
    expect(parseConfig({ TICKETFLOW_QUEUE_PREFIX: 'tf' }).redisClusterNodes).toEqual([]);
  });

  it('refuses a database other than 0 in REDIS_URL, which a cluster does not have', () => {
    const tagged = { ...cluster, TICKETFLOW_QUEUE_PREFIX: '{tf}' };
    expect(configErrorOf({ ...tagged, REDIS_URL: 'redis://:pw@x:6379/2' })).toBe(
      'REDIS_URL: Redis Cluster (REDIS_CLUSTER_NODES) has only database 0: remove "/2" from REDIS_URL',
    );
    expect(parseConfig({ ...tagged, REDIS_URL: 'rediss://u:pw@x:6379/0' }).redisUrl).toBe(
      'rediss://u:pw@x:6379/0',
    );
  });
});

describe('notification settings', () => {
  it('reads a webhook schedule of durations, milliseconds included for short test schedules', () => {
    expect(
      parseConfig({ TICKETFLOW_WEBHOOK_SCHEDULE: '200ms, 1s,2m,1h,1d' }).webhooks.scheduleMs,
    ).toEqual([200, 1000, 120_000, 3_600_000, 86_400_000]);
  });

  it('refuses a schedule that is not a list of durations, naming the variable', () => {
    expect(configErrorOf({ TICKETFLOW_WEBHOOK_SCHEDULE: '5s,soon' })).toMatch(
      /^TICKETFLOW_WEBHOOK_SCHEDULE: expected durations like 5s,5m,2h/,
    );
  });

  it('refuses an unknown fault point instead of silently running without it', () => {
    expect(configErrorOf({ TICKETFLOW_FAULT_POINTS: 'after-reply-commit,after-lunch' })).toMatch(
      /^TICKETFLOW_FAULT_POINTS/,
    );
    expect(parseConfig({ TICKETFLOW_FAULT_POINTS: 'after-dead-letter' }).faultPoints).toEqual([
      'after-dead-letter',
    ]);
  });

  it('uses the mail secret when set and says when the development key is in use', () => {
    const secret = 'm'.repeat(32);
    expect(parseConfig({ TICKETFLOW_MAIL_SECRET: secret }).mail).toMatchObject({
      secret,
      usesDevSecret: false,
    });
    expect(configErrorOf({ TICKETFLOW_MAIL_SECRET: 'short' })).toMatch(
      /^TICKETFLOW_MAIL_SECRET: at least 32 characters/,
    );
  });
});

describe('the email bridge settings', () => {
  it('reads staff addresses in lower case, each with its display name when given', () => {
    expect(
      parseConfig({ TICKETFLOW_BRIDGE_STAFF: 'Ann@Help.example=Ann Smith, bob@help.example' })
        .bridge.staff,
    ).toEqual([
      { address: 'ann@help.example', name: 'Ann Smith' },
      { address: 'bob@help.example', name: undefined },
    ]);
  });

  it("reads the MTA's authserv-id, and refuses one that is not a host name", () => {
    expect(
      parseConfig({ TICKETFLOW_BRIDGE_AUTHSERV_ID: 'mx.help.example' }).bridge.authservId,
    ).toBe('mx.help.example');
    expect(configErrorOf({ TICKETFLOW_BRIDGE_AUTHSERV_ID: 'mx; dmarc=pass' })).toMatch(
      /^TICKETFLOW_BRIDGE_AUTHSERV_ID: expected a host name such as mx.help.example/,
    );
  });

  it('refuses a staff entry that is not an address, naming the variable', () => {
    expect(configErrorOf({ TICKETFLOW_BRIDGE_STAFF: 'Ann Smith' })).toMatch(
      /^TICKETFLOW_BRIDGE_STAFF\.0: expected address or address=Display Name/,
    );
  });

  it('refuses a subject tag without a capture group for the ticket number, or not a pattern', () => {
    expect(configErrorOf({ TICKETFLOW_BRIDGE_SUBJECT_TAG: '\\[Ticket ID: \\w+\\]' })).toMatch(
      /^TICKETFLOW_BRIDGE_SUBJECT_TAG: expected a regular expression with a capture group/,
    );
    expect(configErrorOf({ TICKETFLOW_BRIDGE_SUBJECT_TAG: '[Ticket (' })).toMatch(
      /^TICKETFLOW_BRIDGE_SUBJECT_TAG/,
    );
    expect(parseConfig({ TICKETFLOW_BRIDGE_SUBJECT_TAG: '#(\\d+)' }).bridge.subjectTag).toBe(
      '#(\\d+)',
    );
  });

  it('refuses a mailbox name with a colon, which would make dedupe keys ambiguous', () => {
    expect(configErrorOf({ TICKETFLOW_BRIDGE_MAILBOX: 'a:b' })).toMatch(
      /^TICKETFLOW_BRIDGE_MAILBOX/,
    );
  });
});

describe('.env.example', () => {
  it('names exactly the variables parseConfig reads, in both directions', () => {
    const listed = [...readEnvExample().keys()];
    expect(listed.filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
    expect(CONFIG_VARIABLES.filter((name) => !listed.includes(name))).toEqual([]);
  });

  it('shows each default, so uncommenting every line changes nothing', () => {
    expect(parseConfig(Object.fromEntries(readEnvExample()))).toEqual(parseConfig({}));
  });
});
