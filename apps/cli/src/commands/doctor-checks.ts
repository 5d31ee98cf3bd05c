/** One line of `ticketflow doctor`. */
export interface DoctorCheck {
  name: string;
  /** False fails the run (exit 1); a warning is ok with a fix worth reading. */
  ok: boolean;
  warning?: true;
  detail: string;
  /** What to do about it, when there is something to do. */
  fix?: string;
}

/** What Redis said, read through INFO (allowed everywhere) and CONFIG GET (often renamed). */
export interface RedisFacts {
  version: string;
  maxmemoryPolicy: string;
  aofEnabled: boolean;
  /** INFO's `aof_last_write_status` (`ok` or `err`). */
  aofLastWrite: string;
  /** INFO's `rdb_last_bgsave_status`. */
  rdbLastSave: string;
  /** `save` and `appendfsync`, or why CONFIG GET was refused (managed Redis often renames it). */
  config: { save: string; appendfsync: string } | { error: string };
}

/** One catalog queue as seen from Redis. */
export interface QueueFacts {
  name: string;
  /** BullMQ workers connected (CLIENT LIST), or why they could not be listed. */
  workers: number | { error: string };
  /** Jobs ready to run (waiting and prioritized). */
  backlog: number;
  /** When the oldest waiting job was enqueued (ms since the epoch). */
  oldestWaitingAt: number | undefined;
}

/** One Redis server as doctor read it: the Redis of REDIS_URL, or one master of a cluster. */
export interface RedisServerFacts {
  /** `host:port`. */
  address: string;
  facts: RedisFacts | { error: string };
}

/** Everything `doctor` reads before deciding; {@link doctorChecks} turns it into lines. */
export interface DoctorFacts {
  now: number;
  /** Where Redis was looked for, without credentials: the URL, or a cluster's seed nodes. */
  redisLocation: string;
  /** Every server read (one, or each master of a cluster), or why none could be. */
  redis: RedisServerFacts[] | { error: string };
  queues: QueueFacts[] | { error: string };
  postgres: { version: string; versionNum: number; pending: string[] } | { error: string };
  /** SMTP_URL without credentials, and whether the server answered; undefined when unset. */
  smtp: { url: string; error: string | undefined } | undefined;
  production: boolean;
  devJwtSecret: boolean;
  devMailSecret: boolean;
  /** The email bridge's staff addresses and its MTA's authserv-id (unset: From not checked). */
  bridge: { staffAddresses: number; authservId: string | undefined };
}

/** BullMQ refuses older servers; 6.2 is the version it recommends and tests against. */
const REDIS_MIN = [6, 2] as const;
/** `gen_random_uuid()` (outbox ids) is built in from PostgreSQL 13. */
const POSTGRES_MIN = 13;
/** A reply waits milliseconds for a worker; a minute means the workers are stuck or too few. */
const STALE_BACKLOG_MS = 60_000;

const ENABLE_AOF =
  'CONFIG SET appendonly yes and CONFIG SET appendfsync always, and write both into redis.conf (docker-compose.yml runs Redis that way)';

/**
 * The checks of API.md §10, in the order they print. Pure: every fact was read beforehand, so
 * each rule is a plain function of them.
 */
export function doctorChecks(facts: DoctorFacts): DoctorCheck[] {
  return [
    ...redisChecks(facts),
    ...postgresChecks(facts),
    ...queueChecks(facts),
    smtpCheck(facts),
    facts.devJwtSecret
      ? fail(
          'jwt secret',
          'the built-in development secret verifies tokens: anyone who read the source can sign an ops token',
          'set TICKETFLOW_JWT_SECRET to 32+ random characters (openssl rand -hex 32), or TICKETFLOW_JWT_PUBLIC_KEY_FILE',
        )
      : pass('jwt secret', 'configured'),
    facts.devMailSecret
      ? fail(
          'mail secret',
          'the built-in development key signs notification Message-IDs: an email bridge cannot tell ours from forged ones',
          'set TICKETFLOW_MAIL_SECRET to 32+ random characters (openssl rand -hex 32)',
        )
      : pass('mail secret', 'configured'),
    bridgeSendersCheck(facts),
  ];
}

/**
 * Whether the email bridge checks who mail is from. Without an authserv-id the From header is
 * taken as delivered; with staff addresses configured, that lets anyone who writes one in From
 * post a staff reply, which Ticketflow then emails to the client as the helpdesk.
 */
function bridgeSendersCheck({ bridge, production }: DoctorFacts): DoctorCheck {
  if (bridge.authservId) {
    return pass(
      'bridge senders',
      `From checked against Authentication-Results of ${bridge.authservId}`,
    );
  }
  if (bridge.staffAddresses === 0) {
    return pass('bridge senders', 'From taken as delivered (no staff addresses)');
  }
  const detail = `TICKETFLOW_BRIDGE_STAFF names ${bridge.staffAddresses} address(es), but From is not checked: a forged staff address posts a staff reply that is emailed to the client`;
  const fix =
    "set TICKETFLOW_BRIDGE_AUTHSERV_ID to your MTA's authserv-id (see README, Email bridge)";
  return production ? fail('bridge senders', detail, fix) : warn('bridge senders', detail, fix);
}

/**
 * The version line, then maxmemory-policy and persistence of every server. A cluster's masters
 * are checked one by one (each holds its own slots and its own settings), and a check they all
 * pass alike prints once; where they differ, each answer names its masters.
 */
function redisChecks({ redis, redisLocation }: DoctorFacts): DoctorCheck[] {
  if ('error' in redis) return [unreachable(redisLocation, redis.error)];
  const single = redis.length === 1;
  const down: DoctorCheck[] = [];
  const up: Array<{ address: string; facts: RedisFacts }> = [];
  for (const { address, facts } of redis) {
    if ('error' in facts) down.push(unreachable(single ? redisLocation : address, facts.error));
    else up.push({ address, facts });
  }
  if (up.length === 0) return down;
  const where = single ? redisLocation : `${redisLocation} (${redis.length} masters)`;
  return [
    ...down,
    versionCheck(up, where),
    ...mergeServerChecks(
      up.map(({ address, facts }) => ({
        address,
        checks: [maxmemoryCheck(facts), ...persistenceChecks(facts)],
      })),
      redis.length,
    ),
  ];
}

function unreachable(where: string, error: string): DoctorCheck {
  return fail(
    'redis',
    `unreachable at ${where}: ${error}`,
    'start Redis, or set REDIS_URL (REDIS_CLUSTER_NODES for a cluster) to where it runs',
  );
}

function versionCheck(
  servers: ReadonlyArray<{ address: string; facts: RedisFacts }>,
  where: string,
): DoctorCheck {
  const old = servers.filter((s) => !atLeast(s.facts.version, REDIS_MIN));
  if (old.length === 0) {
    const versions = [...new Set(servers.map((s) => s.facts.version))];
    return pass('redis', `${versions.join(', ')} at ${where}`);
  }
  const oldWhere = servers.length === 1 ? where : old.map((s) => s.address).join(', ');
  return fail(
    'redis',
    `${[...new Set(old.map((s) => s.facts.version))].join(', ')} at ${oldWhere}: BullMQ needs ${REDIS_MIN.join('.')} or newer`,
    `upgrade Redis to ${REDIS_MIN.join('.')} or newer`,
  );
}

function maxmemoryCheck(redis: RedisFacts): DoctorCheck {
  return redis.maxmemoryPolicy === 'noeviction'
    ? pass('redis maxmemory-policy', 'noeviction')
    : fail(
        'redis maxmemory-policy',
        `${redis.maxmemoryPolicy}: under memory pressure Redis may evict job and lock keys, and BullMQ then loses or repeats jobs`,
        'CONFIG SET maxmemory-policy noeviction, and write it into redis.conf',
      );
}

/**
 * One line per check name when all `total` servers gave the same answer; otherwise one line
 * per distinct answer, its detail led by the servers that gave it (so a check only some gave,
 * such as `redis fsync`, or one a down server could not give, names its servers too).
 */
function mergeServerChecks(
  servers: ReadonlyArray<{ address: string; checks: DoctorCheck[] }>,
  total: number,
): DoctorCheck[] {
  type Answer = { check: DoctorCheck; addresses: string[] };
  const byName = new Map<string, Map<string, Answer>>();
  for (const { address, checks } of servers) {
    for (const check of checks) {
      const answers = byName.get(check.name) ?? new Map<string, Answer>();
      byName.set(check.name, answers);
      const key = JSON.stringify(check);
      const answer = answers.get(key) ?? { check, addresses: [] };
      answers.set(key, answer);
      answer.addresses.push(address);
    }
  }
  return [...byName.values()].flatMap((answers) => {
    const all = [...answers.values()];
    if (all.length === 1 && all[0]!.addresses.length === total) return [all[0]!.check];
    return all.map(({ check, addresses }) => ({
      ...check,
      detail: `${addresses.join(', ')}: ${check.detail}`,
    }));
  });
}

function persistenceChecks(redis: RedisFacts): DoctorCheck[] {
  const name = 'redis persistence';
  if (redis.aofEnabled && redis.aofLastWrite !== 'ok') {
    return [
      fail(
        name,
        `AOF on, but its last write failed (${redis.aofLastWrite}): Redis refuses writes until it can persist again`,
        'check the disk Redis writes its appendonly file to (space, permissions), then the Redis log',
      ),
    ];
  }
  if ('error' in redis.config) {
    return [
      redis.aofEnabled
        ? pass(name, `AOF on (appendfsync unknown: ${redis.config.error})`)
        : fail(
            name,
            `AOF off, and CONFIG GET save was refused (${redis.config.error}): RDB snapshots cannot be checked`,
            `turn on AOF in your Redis provider's settings, with fsync on every write if offered`,
          ),
    ];
  }
  const { save, appendfsync } = redis.config;
  if (redis.aofEnabled) {
    const checks = [pass(name, `AOF on (appendfsync ${appendfsync})`)];
    if (appendfsync !== 'always') {
      checks.push(
        warn(
          'redis fsync',
          `appendfsync ${appendfsync}: a Redis crash can lose about the last second of accepted replies`,
          'CONFIG SET appendfsync always, and write it into redis.conf (docker-compose.yml ships always)',
        ),
      );
    }
    return checks;
  }
  if (save.trim() !== '') {
    if (redis.rdbLastSave !== 'ok') {
      return [
        fail(
          name,
          `RDB snapshots (save ${save}), but the last one failed (${redis.rdbLastSave})`,
          `check the disk Redis writes dump.rdb to; better, ${ENABLE_AOF}`,
        ),
      ];
    }
    return [
      pass(name, `RDB snapshots (save ${save}), AOF off`),
      warn(
        'redis fsync',
        'snapshots only: a Redis crash loses every reply accepted since the last snapshot (minutes of them)',
        ENABLE_AOF,
      ),
    ];
  }
  return [
    fail(
      name,
      'off (no AOF, no RDB snapshots): a Redis restart loses every accepted reply not yet stored',
      ENABLE_AOF,
    ),
  ];
}

function postgresChecks({ postgres }: DoctorFacts): DoctorCheck[] {
  if ('error' in postgres) {
    return [
      fail(
        'postgresql',
        `unreachable: ${postgres.error}`,
        'start PostgreSQL, or set DATABASE_URL; `ticketflow migrate` creates a missing database',
      ),
    ];
  }
  const major = Math.floor(postgres.versionNum / 10_000);
  return [
    major >= POSTGRES_MIN
      ? pass('postgresql', postgres.version)
      : fail(
          'postgresql',
          `${postgres.version}: Ticketflow needs ${POSTGRES_MIN} or newer`,
          `upgrade PostgreSQL to ${POSTGRES_MIN} or newer`,
        ),
    postgres.pending.length === 0
      ? pass('migrations', 'current')
      : fail(
          'migrations',
          `${postgres.pending.length} pending: ${postgres.pending.join(', ')}`,
          'run `ticketflow migrate`',
        ),
  ];
}

function queueChecks({ queues, now }: DoctorFacts): DoctorCheck[] {
  if ('error' in queues) {
    return [
      fail('queues', `not read: ${queues.error}`, 'make Redis reachable, then run doctor again'),
    ];
  }
  return queues.map((q) => {
    const name = `queue ${q.name}`;
    const age = q.oldestWaitingAt === undefined ? undefined : now - q.oldestWaitingAt;
    const backlog =
      q.backlog === 0
        ? 'nothing waiting'
        : `${q.backlog} waiting${age === undefined ? '' : `, oldest ${formatAge(age)}`}`;
    if (typeof q.workers !== 'number') {
      return warn(
        name,
        `workers could not be listed (${q.workers.error}); ${backlog}`,
        'allow CLIENT LIST for this Redis user to see connected workers',
      );
    }
    if (q.workers === 0) {
      return fail(
        name,
        `no worker connected; ${backlog}`,
        'start one: `ticketflow serve --worker` (or `serve`) with the same REDIS_URL and TICKETFLOW_QUEUE_PREFIX',
      );
    }
    const workers = `${q.workers} worker${q.workers === 1 ? '' : 's'} connected; ${backlog}`;
    return age !== undefined && age > STALE_BACKLOG_MS
      ? warn(
          name,
          workers,
          'the workers are not keeping up: add workers, or look in their log for what holds them',
        )
      : pass(name, workers);
  });
}

function smtpCheck({ smtp, production }: DoctorFacts): DoctorCheck {
  if (!smtp) {
    const detail = 'no SMTP_URL: mail only written as .eml files';
    const fix = 'set SMTP_URL to your relay (smtp://user:pass@host:587)';
    return production ? fail('smtp', detail, fix) : warn('smtp', detail, fix);
  }
  return smtp.error === undefined
    ? pass('smtp', `${smtp.url} answered`)
    : fail(
        'smtp',
        `${smtp.url} unreachable: ${smtp.error}`,
        'check SMTP_URL (host, port, credentials) and that the relay accepts this host',
      );
}

/** `redis://:secret@host:6379/0` → `redis://host:6379/0`: doctor output is pasted into tickets. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable URL)';
  }
}

/** `INFO` text → its `field:value` pairs. */
export function parseRedisInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** One line of output: `✓ name: detail`, or `✗`/`!` with ` — fix: …`. */
export function formatCheck(check: DoctorCheck): string {
  const mark = !check.ok ? '✗' : check.warning ? '!' : '✓';
  const fix = check.fix ? ` — fix: ${check.fix}` : '';
  return `${mark} ${check.name}: ${check.detail}${fix}`;
}

function atLeast(version: string, min: readonly [number, number]): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > min[0] || (major === min[0] && minor >= min[1]);
}

function formatAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

const pass = (name: string, detail: string): DoctorCheck => ({ name, ok: true, detail });
const warn = (name: string, detail: string, fix: string): DoctorCheck => ({
  name,
  ok: true,
  warning: true,
  detail,
  fix,
});
const fail = (name: string, detail: string, fix: string): DoctorCheck => ({
  name,
  ok: false,
  detail,
  fix,
});
