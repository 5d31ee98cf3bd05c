import { z } from 'zod';

const MiB = 1024 * 1024;

/** Positive integer from an environment string. */
const int = (min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const bool = z
  .string()
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off']))
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
/** `5s,5m,30m,2h` → milliseconds each; `ms` is allowed for tests that shorten schedules. */
const durations = z
  .string()
  .regex(
    /^\s*\d+(?:ms|s|m|h|d)(?:\s*,\s*\d+(?:ms|s|m|h|d))*\s*$/,
    'expected durations like 5s,5m,2h',
  )
  .transform((v) => v.split(',').map((d) => parseDuration(d.trim())));
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
/** `ann@example.com=Ann Smith,bob@example.com`: staff addresses, each with an optional display name. */
const staffAddresses = list.pipe(
  z.array(
    z
      .string()
      .regex(
        /^[^\s@=,]+@[^\s@=,]+(=.+)?$/,
        'expected address or address=Display Name, comma-separated',
      )
      .transform((entry) => {
        const [address = '', ...name] = entry.split('=');
        return { address: address.toLowerCase(), name: name.join('=').trim() || undefined };
      }),
  ),
);
/** `host:port` entries (IPv6 in brackets) → the seed nodes of a Redis Cluster. */
const hostPorts = list.pipe(
  z
    .array(
      z
        .string()
        .regex(/^(?:\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'expected host:port, comma-separated')
        .transform((entry) => {
          const colon = entry.lastIndexOf(':');
          return {
            host: entry.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
            port: Number(entry.slice(colon + 1)),
          };
        })
        .refine((node) => node.port >= 1 && node.port <= 65535, 'expected a port from 1 to 65535'),
    )
    .min(1, 'expected host:port, comma-separated'),
);
/** A regular expression whose first capture group is the ticket number (the bridge's subject tag). */
const subjectTag = z.string().refine(
  (source) => {
    try {
      // An alternative that matches the empty string shows how many groups the pattern has.
      return (new RegExp(`${source}|`, 'i').exec('')?.length ?? 0) > 1;
    } catch {
      return false;
    }
  },
  { message: 'expected a regular expression with a capture group for the ticket number' },
);

/**
 * The development secret used when TICKETFLOW_JWT_SECRET is unset, so the service runs on a
 * fresh machine with no configuration. `serve` logs a warning whenever it is in use.
 */
export const DEV_JWT_SECRET = 'ticketflow-development-secret-do-not-use-in-production';
/** The development key of notification Message-IDs, used when TICKETFLOW_MAIL_SECRET is unset. */
export const DEV_MAIL_SECRET = 'ticketflow-development-mail-secret-do-not-use-in-production';

/**
 * Points where a process SIGKILLs itself, so crash tests can stop it at an exact moment. Off
 * unless TICKETFLOW_FAULT_POINTS names them; never set in production.
 */
export const FAULT_POINTS = ['after-reply-commit', 'after-dead-letter'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** Every variable the service reads, with its default. Defaults live here and nowhere else. */
const envSchema = z
  .object({
    /** PostgreSQL connection string. 127.0.0.1, not localhost: localhost tries IPv6 first. */
    DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/ticketflow'),
    /**
     * Redis connection string. With REDIS_CLUSTER_NODES set, only its user, password and
     * `rediss://` (TLS) apply, to every node of the cluster.
     */
    REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
    /**
     * Seed nodes of a Redis Cluster (`host:port`, comma-separated; a few masters suffice, the
     * client discovers the rest). Unset: the single Redis of REDIS_URL.
     */
    REDIS_CLUSTER_NODES: hostPorts.optional(),
    /** HTTP port of every `serve` mode. */
    PORT: int(0, 65535).default(8080),
    /** BullMQ key prefix; a hash tag such as `{ticketflow}` on Redis Cluster (checked below). */
    TICKETFLOW_QUEUE_PREFIX: z
      .string()
      .regex(/^[^:\s]+$/, 'no colons or spaces')
      .default('ticketflow'),
    /** HS256 shared secret (at least 32 characters). */
    TICKETFLOW_JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
    /** PEM file with the RS256/ES256 public key. */
    TICKETFLOW_JWT_PUBLIC_KEY_FILE: z.string().min(1).optional(),
    /** Required `aud` claim. */
    TICKETFLOW_JWT_AUDIENCE: z.string().min(1).default('ticketflow'),
    /** Required `iss` claim, checked only when set. */
    TICKETFLOW_JWT_ISSUER: z.string().min(1).optional(),
    /** Browser origins allowed by CORS, comma-separated. */
    TICKETFLOW_CORS_ORIGINS: list.default([]),
    /**
     * Reply jobs processed at once per worker process. Jobs wait on PostgreSQL, not the CPU, and
     * concurrent replies share one group-commit transaction: 64 stored 1.7× the replies per
     * second of 16 in `npm run bench`.
     */
    TICKETFLOW_WORKER_CONCURRENCY: int(1, 1000).default(64),
    /** How long a worker owns an active job before BullMQ deems it stalled (ms). */
    TICKETFLOW_WORKER_LOCK_DURATION_MS: int(1000).default(30_000),
    /** How often workers look for stalled jobs (ms). */
    TICKETFLOW_WORKER_STALLED_INTERVAL_MS: int(100).default(30_000),
    /** Attempts per reply job, the first included, before it is dead-lettered. */
    TICKETFLOW_REPLY_ATTEMPTS: int(1, 50).default(6),
    /** First retry delay (ms); doubles each attempt, with jitter. */
    TICKETFLOW_REPLY_BACKOFF_MS: int(10).default(1000),
    /** Longest a SIGTERM waits for in-flight requests and active jobs (ms). */
    TICKETFLOW_SHUTDOWN_TIMEOUT_MS: int(100).default(10_000),
    /** PostgreSQL pool size per process. */
    TICKETFLOW_DB_POOL_MAX: int(1, 200).default(10),
    /** Largest request body (bytes). */
    TICKETFLOW_MAX_BODY_BYTES: int().default(25 * MiB),
    /** Largest `message`, counted in UTF-8 bytes. */
    TICKETFLOW_MAX_MESSAGE_BYTES: int().default(256 * 1024),
    /** Most attachments per reply. */
    TICKETFLOW_MAX_ATTACHMENTS: int(0).default(10),
    /** Largest decoded attachment (bytes). */
    TICKETFLOW_MAX_ATTACHMENT_BYTES: int().default(10 * MiB),
    /** Largest decoded total of a reply's attachments (bytes). */
    TICKETFLOW_MAX_ATTACHMENTS_TOTAL_BYTES: int().default(25 * MiB),
    /** Allowed attachment extensions, comma-separated with leading dots. */
    TICKETFLOW_ATTACHMENT_EXTENSIONS: list.default([
      '.jpg',
      '.gif',
      '.jpeg',
      '.png',
      '.txt',
      '.pdf',
    ]),
    /**
     * Staged attachment blobs no reply references are swept after this many hours. It must
     * outlast the longest time a reply job can wait in the queue, or its blobs go first.
     */
    TICKETFLOW_BLOB_GRACE_HOURS: int(1).default(24),
    /** How often a worker sweeps unreferenced blobs (minutes). */
    TICKETFLOW_BLOB_SWEEP_EVERY_MINUTES: int(1).default(60),
    /**
     * The email bridge's record of a message (`inbound_emails`) is deleted this many days after
     * the message was last read. At most 100 years: PostgreSQL's make_interval takes an int.
     */
    TICKETFLOW_INBOUND_EMAIL_RETENTION_DAYS: int(1, 36_500).default(30),
    /** Accepted requests per token `sub` per minute. */
    TICKETFLOW_RATE_LIMIT_PER_PRINCIPAL: int().default(6000),
    /** Accepted replies per ticket per minute. */
    TICKETFLOW_RATE_LIMIT_PER_TICKET: int().default(120),
    /** How long idempotent responses are kept (hours, at least 24 per API.md §8). */
    TICKETFLOW_IDEMPOTENCY_TTL_HOURS: int(24).default(48),
    /** SMTP server for notification email (`smtp://user:pass@host:587`, `smtps://…`). */
    SMTP_URL: z.url().optional(),
    /** From address of notification email; its domain also names the Message-IDs. */
    TICKETFLOW_MAIL_FROM: z.string().min(3).default('Ticketflow <helpdesk@ticketflow.localhost>'),
    /** Without SMTP_URL, each notification email is written here as an `.eml` file (development). */
    TICKETFLOW_MAIL_DIR: z.string().min(1).default('.ticketflow/mail'),
    /** HMAC key of notification Message-IDs (an email bridge verifies them), ≥ 32 characters. */
    TICKETFLOW_MAIL_SECRET: z.string().min(32, 'at least 32 characters').optional(),
    /** Attempts per notification email before it is dead-lettered. */
    TICKETFLOW_EMAIL_ATTEMPTS: int(1, 50).default(12),
    /** First email retry delay (ms); doubles each attempt, with jitter (12 attempts span ~5.7 h). */
    TICKETFLOW_EMAIL_BACKOFF_MS: int(10).default(5000),
    /**
     * The email bridge's mailbox name, in every dedupe key it makes (`email:<mailbox>:<Message-ID>`),
     * so one message reaching two mailboxes is two replies and one reaching a mailbox twice is one.
     */
    TICKETFLOW_BRIDGE_MAILBOX: z
      .string()
      .regex(/^[A-Za-z0-9._@+-]{1,64}$/, 'expected 1 to 64 letters, digits or . _ @ + -')
      .default('support'),
    /**
     * How the bridge finds a ticket number in a subject when the message names none of our
     * notifications: matched case-insensitively, the first capture group is the ticket number.
     * The default is the tag our notifications carry (WHMCS's).
     */
    TICKETFLOW_BRIDGE_SUBJECT_TAG: subjectTag.default('\\[Ticket ID: ([A-Za-z0-9-]{1,15})\\]'),
    /** Senders whose mail becomes a staff reply (`address=Display Name`, comma-separated). */
    TICKETFLOW_BRIDGE_STAFF: staffAddresses.default([]),
    /**
     * Post mail from senders the ticket does not know as guest replies. Off: a reply to someone
     * else's ticket is refused, as the API refuses a client token on another client's ticket.
     */
    TICKETFLOW_BRIDGE_ALLOW_STRANGERS: bool.default(false),
    /**
     * The authserv-id your MTA writes in Authentication-Results (RFC 8601), usually its host
     * name. Set, the bridge posts only mail whose From domain that header shows a DMARC pass or
     * an aligned DKIM or SPF pass for; unset, the From header is trusted as delivered.
     */
    TICKETFLOW_BRIDGE_AUTHSERV_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,253}$/, 'expected a host name such as mx.help.example')
      .optional(),
    /**
     * Largest raw message the bridge reads over SMTP, LMTP, stdin or HTTP (bytes), enforced while
     * it streams in. 35 MiB holds the 25 MiB attachment total in base64 (+33 %) and the text.
     */
    TICKETFLOW_BRIDGE_MAX_MESSAGE_BYTES: int(1024).default(35 * MiB),
    /** Delays between webhook attempts (Svix's schedule): one attempt more than entries. */
    TICKETFLOW_WEBHOOK_SCHEDULE: durations.default([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]),
    /** One webhook attempt's deadline, connect to last byte (ms). */
    TICKETFLOW_WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(15_000),
    /** Allow webhook URLs on loopback, private and link-local addresses (development only). */
    TICKETFLOW_WEBHOOK_ALLOW_PRIVATE: bool.default(false),
    /** An endpoint whose every attempt failed for this many hours is disabled (0: at once). */
    TICKETFLOW_WEBHOOK_DISABLE_AFTER_HOURS: int(0).default(120),
    /** Webhook attempts in flight per endpoint per worker process: a slow one cannot take every slot. */
    TICKETFLOW_WEBHOOK_ENDPOINT_CONCURRENCY: int(1, 1000).default(16),
    /** Notification deliveries at once per worker process (they wait on the network). */
    TICKETFLOW_NOTIFY_CONCURRENCY: int(1, 1000).default(64),
    /**
     * How often the outbox is swept, and how old an undispatched row must be to be enqueued by
     * the sweep (a crash between the reply commit and the enqueue), in seconds.
     */
    TICKETFLOW_OUTBOX_SWEEP_SECONDS: int(1).default(30),
    /**
     * A worker with waiting jobs and free slots that takes none for this long is judged stuck
     * (the known BullMQ failure after a Redis reconnect) and healed; checked 4 times per window.
     */
    TICKETFLOW_WATCHDOG_SECONDS: int(1).default(20),
    /** Comma-separated crash points for tests (see FAULT_POINTS); never in production. */
    TICKETFLOW_FAULT_POINTS: list.pipe(z.array(z.enum(FAULT_POINTS))).default([]),
    /** pino level. */
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    /** Log one line per HTTP request. */
    TICKETFLOW_ACCESS_LOG: bool.default(true),
    /** Record metrics and serve them on `/metrics` (ops token) in every `serve` mode. */
    TICKETFLOW_METRICS: bool.default(true),
    /** `production` makes `doctor` fail on development fallbacks (mail written as files). */
    NODE_ENV: z.string().min(1).default('development'),
  })
  .refine((e) => !(e.TICKETFLOW_JWT_SECRET && e.TICKETFLOW_JWT_PUBLIC_KEY_FILE), {
    // One verification key at a time: accepting both would let an HS256 token stand in for
    // an RS256 one, the classic algorithm-confusion hole.
    message: 'set TICKETFLOW_JWT_SECRET or TICKETFLOW_JWT_PUBLIC_KEY_FILE, not both',
    path: ['TICKETFLOW_JWT_SECRET'],
  })
  .superRefine((e, ctx) => {
    if (!e.REDIS_CLUSTER_NODES) return;
    // BullMQ runs each queue operation as one Lua script over several of the queue's keys, and
    // a cluster refuses a script whose keys live in different slots (CROSSSLOT). A hash tag in
    // the prefix puts every key of every queue in the tag's one slot.
    if (!hasHashTag(e.TICKETFLOW_QUEUE_PREFIX)) {
      ctx.addIssue({
        code: 'custom',
        path: ['TICKETFLOW_QUEUE_PREFIX'],
        message: `"${e.TICKETFLOW_QUEUE_PREFIX}" has no hash tag, and on Redis Cluster (REDIS_CLUSTER_NODES) all of a queue's keys must hash to one slot: set TICKETFLOW_QUEUE_PREFIX={${e.TICKETFLOW_QUEUE_PREFIX}}`,
      });
    }
    const database = new URL(e.REDIS_URL).pathname;
    if (!['', '/', '/0'].includes(database)) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: `Redis Cluster (REDIS_CLUSTER_NODES) has only database 0: remove "${database}" from REDIS_URL`,
      });
    }
  });

/**
 * Redis hashes only the part between the first `{` and the next `}` when it is not empty
 * (the cluster specification's hash tags), so `{ticketflow}:replies:wait` and
 * `{ticketflow}:notifications:wait` share a slot.
 */
function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  return open >= 0 && key.indexOf('}', open + 1) > open + 1;
}

type Env = z.infer<typeof envSchema>;

/** The service configuration, parsed once at start-up and frozen. */
export interface Config {
  databaseUrl: string;
  redisUrl: string;
  /** Seed nodes of a Redis Cluster; empty for a single Redis (REDIS_URL). */
  redisClusterNodes: ReadonlyArray<{ host: string; port: number }>;
  port: number;
  queuePrefix: string;
  jwt: {
    /** HS256 secret, or undefined when a public key file is configured. */
    secret: string | undefined;
    publicKeyFile: string | undefined;
    /** True when the built-in development secret is in use. */
    usesDevSecret: boolean;
    audience: string;
    issuer: string | undefined;
  };
  corsOrigins: readonly string[];
  worker: {
    concurrency: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    attempts: number;
    backoffMs: number;
  };
  shutdownTimeoutMs: number;
  dbPoolMax: number;
  limits: {
    bodyBytes: number;
    messageBytes: number;
    attachments: number;
    attachmentBytes: number;
    attachmentsTotalBytes: number;
    attachmentExtensions: readonly string[];
  };
  rateLimits: { perPrincipalPerMinute: number; perTicketPerMinute: number };
  idempotencyTtlHours: number;
  blobSweep: { graceHours: number; everyMinutes: number };
  inboundEmailRetentionDays: number;
  mail: {
    smtpUrl: string | undefined;
    from: string;
    dir: string;
    secret: string;
    /** True when the built-in development Message-ID key is in use. */
    usesDevSecret: boolean;
    attempts: number;
    backoffMs: number;
  };
  /** The email bridge (`ticketflow bridge`, `POST /api/v2/inbound-email`). */
  bridge: {
    mailbox: string;
    /** Regular expression source; its first capture group is the ticket number. */
    subjectTag: string;
    /** Lower-case addresses whose mail becomes a staff reply, each with its display name. */
    staff: ReadonlyArray<{ address: string; name: string | undefined }>;
    allowStrangers: boolean;
    /** Our MTA's authserv-id, whose Authentication-Results must vouch for each sender. */
    authservId: string | undefined;
    maxMessageBytes: number;
  };
  webhooks: {
    scheduleMs: readonly number[];
    timeoutMs: number;
    allowPrivate: boolean;
    disableAfterMs: number;
    perEndpointConcurrency: number;
  };
  notifyConcurrency: number;
  outboxSweepMs: number;
  /** Consumption watchdog window (ms). */
  watchdogMs: number;
  faultPoints: readonly FaultPoint[];
  logLevel: Env['LOG_LEVEL'];
  accessLog: boolean;
  metrics: boolean;
  /** NODE_ENV is `production`. */
  production: boolean;
}

/** Thrown with one line per bad variable: `NAME: what it expects`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment into a frozen Config, or throws ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const given = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(lines.join('\n'));
  }
  const e = parsed.data;
  const usesDevSecret = !e.TICKETFLOW_JWT_SECRET && !e.TICKETFLOW_JWT_PUBLIC_KEY_FILE;
  return deepFreeze({
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisClusterNodes: e.REDIS_CLUSTER_NODES ?? [],
    port: e.PORT,
    queuePrefix: e.TICKETFLOW_QUEUE_PREFIX,
    jwt: {
      secret: usesDevSecret ? DEV_JWT_SECRET : e.TICKETFLOW_JWT_SECRET,
      publicKeyFile: e.TICKETFLOW_JWT_PUBLIC_KEY_FILE,
      usesDevSecret,
      audience: e.TICKETFLOW_JWT_AUDIENCE,
      issuer: e.TICKETFLOW_JWT_ISSUER,
    },
    corsOrigins: e.TICKETFLOW_CORS_ORIGINS,
    worker: {
      concurrency: e.TICKETFLOW_WORKER_CONCURRENCY,
      lockDurationMs: e.TICKETFLOW_WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: e.TICKETFLOW_WORKER_STALLED_INTERVAL_MS,
      attempts: e.TICKETFLOW_REPLY_ATTEMPTS,
      backoffMs: e.TICKETFLOW_REPLY_BACKOFF_MS,
    },
    shutdownTimeoutMs: e.TICKETFLOW_SHUTDOWN_TIMEOUT_MS,
    dbPoolMax: e.TICKETFLOW_DB_POOL_MAX,
    limits: {
      bodyBytes: e.TICKETFLOW_MAX_BODY_BYTES,
      messageBytes: e.TICKETFLOW_MAX_MESSAGE_BYTES,
      attachments: e.TICKETFLOW_MAX_ATTACHMENTS,
      attachmentBytes: e.TICKETFLOW_MAX_ATTACHMENT_BYTES,
      attachmentsTotalBytes: e.TICKETFLOW_MAX_ATTACHMENTS_TOTAL_BYTES,
      attachmentExtensions: e.TICKETFLOW_ATTACHMENT_EXTENSIONS.map((x) =>
        (x.startsWith('.') ? x : `.${x}`).toLowerCase(),
      ),
    },
    rateLimits: {
      perPrincipalPerMinute: e.TICKETFLOW_RATE_LIMIT_PER_PRINCIPAL,
      perTicketPerMinute: e.TICKETFLOW_RATE_LIMIT_PER_TICKET,
    },
    blobSweep: {
      graceHours: e.TICKETFLOW_BLOB_GRACE_HOURS,
      everyMinutes: e.TICKETFLOW_BLOB_SWEEP_EVERY_MINUTES,
    },
    inboundEmailRetentionDays: e.TICKETFLOW_INBOUND_EMAIL_RETENTION_DAYS,
    idempotencyTtlHours: e.TICKETFLOW_IDEMPOTENCY_TTL_HOURS,
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.TICKETFLOW_MAIL_FROM,
      dir: e.TICKETFLOW_MAIL_DIR,
      secret: e.TICKETFLOW_MAIL_SECRET ?? DEV_MAIL_SECRET,
      usesDevSecret: !e.TICKETFLOW_MAIL_SECRET,
      attempts: e.TICKETFLOW_EMAIL_ATTEMPTS,
      backoffMs: e.TICKETFLOW_EMAIL_BACKOFF_MS,
    },
    bridge: {
      mailbox: e.TICKETFLOW_BRIDGE_MAILBOX,
      subjectTag: e.TICKETFLOW_BRIDGE_SUBJECT_TAG,
      staff: e.TICKETFLOW_BRIDGE_STAFF,
      allowStrangers: e.TICKETFLOW_BRIDGE_ALLOW_STRANGERS,
      authservId: e.TICKETFLOW_BRIDGE_AUTHSERV_ID,
      maxMessageBytes: e.TICKETFLOW_BRIDGE_MAX_MESSAGE_BYTES,
    },
    webhooks: {
      scheduleMs: e.TICKETFLOW_WEBHOOK_SCHEDULE,
      timeoutMs: e.TICKETFLOW_WEBHOOK_TIMEOUT_MS,
      allowPrivate: e.TICKETFLOW_WEBHOOK_ALLOW_PRIVATE,
      disableAfterMs: e.TICKETFLOW_WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
      perEndpointConcurrency: e.TICKETFLOW_WEBHOOK_ENDPOINT_CONCURRENCY,
    },
    notifyConcurrency: e.TICKETFLOW_NOTIFY_CONCURRENCY,
    outboxSweepMs: e.TICKETFLOW_OUTBOX_SWEEP_SECONDS * 1000,
    watchdogMs: e.TICKETFLOW_WATCHDOG_SECONDS * 1000,
    faultPoints: e.TICKETFLOW_FAULT_POINTS,
    logLevel: e.LOG_LEVEL,
    accessLog: e.TICKETFLOW_ACCESS_LOG,
    metrics: e.TICKETFLOW_METRICS,
    production: e.NODE_ENV === 'production',
  });
}

/** Names of every variable parseConfig reads (kept in step with .env.example by a test). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  return Number(m![1]) * UNIT_MS[m![2] as keyof typeof UNIT_MS];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
