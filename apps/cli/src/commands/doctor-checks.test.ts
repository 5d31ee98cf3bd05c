import { describe, expect, it } from 'vitest';
import {
  doctorChecks,
  formatCheck,
  parseRedisInfo,
  withoutCredentials,
  type DoctorCheck,
  type DoctorFacts,
  type RedisFacts,
  type RedisServerFacts,
} from './doctor-checks.ts';

const NOW = Date.parse('2026-12-04T12:00:00Z');

/** A healthy production installation; each test changes one fact. */
function facts(change: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    now: NOW,
    redisLocation: 'redis://redis:6379',
    redis: redis(),
    queues: [{ name: 'replies', workers: 2, backlog: 0, oldestWaitingAt: undefined }],
    postgres: { version: '15.4', versionNum: 150004, pending: [] },
    smtp: { url: 'smtp://relay:587', error: undefined },
    production: true,
    devJwtSecret: false,
    devMailSecret: false,
    bridge: { staffAddresses: 0, authservId: undefined },
    ...change,
  };
}

function server(change: Partial<RedisFacts> = {}): RedisFacts {
  return {
    version: '7.2.4',
    maxmemoryPolicy: 'noeviction',
    aofEnabled: true,
    aofLastWrite: 'ok',
    rdbLastSave: 'ok',
    config: { save: '', appendfsync: 'always' },
    ...change,
  };
}

/** A single Redis (REDIS_URL). */
function redis(change: Partial<RedisFacts> = {}): RedisServerFacts[] {
  return [{ address: 'redis:6379', facts: server(change) }];
}

function check(all: DoctorCheck[], name: string): DoctorCheck {
  const found = all.find((c) => c.name === name);
  if (!found) throw new Error(`no check named ${name}: ${all.map((c) => c.name).join(', ')}`);
  return found;
}

describe('doctorChecks', () => {
  it('passes every check of a healthy installation, with no warning', () => {
    const checks = doctorChecks(facts());
    expect(checks.filter((c) => !c.ok || c.warning)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'redis',
      'redis maxmemory-policy',
      'redis persistence',
      'postgresql',
      'migrations',
      'queue replies',
      'smtp',
      'jwt secret',
      'mail secret',
      'bridge senders',
    ]);
  });

  it('fails persistence when neither AOF nor RDB snapshots are on, and says how to turn AOF on', () => {
    const c = check(
      doctorChecks(
        facts({
          redis: redis({ aofEnabled: false, config: { save: '', appendfsync: 'everysec' } }),
        }),
      ),
      'redis persistence',
    );
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(/^off \(no AOF, no RDB snapshots\)/);
    expect(c.fix).toMatch(/CONFIG SET appendonly yes/);
  });

  it('passes AOF with appendfsync everysec but warns that a crash can lose about a second', () => {
    const checks = doctorChecks(
      facts({ redis: redis({ config: { save: '', appendfsync: 'everysec' } }) }),
    );
    expect(check(checks, 'redis persistence')).toEqual({
      name: 'redis persistence',
      ok: true,
      detail: 'AOF on (appendfsync everysec)',
    });
    const fsync = check(checks, 'redis fsync');
    expect(fsync).toMatchObject({ ok: true, warning: true });
    expect(fsync.detail).toMatch(/about the last second of accepted replies/);
    expect(fsync.fix).toMatch(/appendfsync always/);
  });

  it('passes RDB snapshots alone, warning that a crash loses what came after the last one', () => {
    const checks = doctorChecks(
      facts({
        redis: redis({ aofEnabled: false, config: { save: '3600 1', appendfsync: 'everysec' } }),
      }),
    );
    expect(check(checks, 'redis persistence')).toMatchObject({ ok: true });
    expect(check(checks, 'redis fsync')).toMatchObject({ ok: true, warning: true });
  });

  it('fails persistence when the last AOF write failed', () => {
    const c = check(
      doctorChecks(facts({ redis: redis({ aofLastWrite: 'err' }) })),
      'redis persistence',
    );
    expect(c.ok).toBe(false);
  });

  it('judges AOF from INFO when CONFIG GET is refused (managed Redis)', () => {
    const refused = { error: "ERR unknown command 'CONFIG'" };
    expect(
      check(doctorChecks(facts({ redis: redis({ config: refused }) })), 'redis persistence').ok,
    ).toBe(true);
    expect(
      check(
        doctorChecks(facts({ redis: redis({ aofEnabled: false, config: refused }) })),
        'redis persistence',
      ).ok,
    ).toBe(false);
  });

  it('fails an eviction policy other than noeviction', () => {
    const c = check(
      doctorChecks(facts({ redis: redis({ maxmemoryPolicy: 'allkeys-lru' }) })),
      'redis maxmemory-policy',
    );
    expect(c).toMatchObject({ ok: false, fix: expect.stringMatching(/noeviction/) as unknown });
  });

  it('fails a Redis older than 6.2', () => {
    expect(check(doctorChecks(facts({ redis: redis({ version: '6.0.16' }) })), 'redis').ok).toBe(
      false,
    );
    expect(check(doctorChecks(facts({ redis: redis({ version: '6.2.0' }) })), 'redis').ok).toBe(
      true,
    );
  });

  it('reports an unreachable Redis once, with the queues it could not read', () => {
    const down = { error: 'connect ECONNREFUSED 127.0.0.1:6379' };
    const checks = doctorChecks(facts({ redis: down, queues: down }));
    expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['redis', 'queues']);
    expect(check(checks, 'redis').detail).toBe(
      'unreachable at redis://redis:6379: connect ECONNREFUSED 127.0.0.1:6379',
    );
  });

  it('fails pending migrations and an unreachable PostgreSQL', () => {
    const pending = doctorChecks(
      facts({
        postgres: { version: '15.4', versionNum: 150004, pending: ['005-idempotency-text'] },
      }),
    );
    expect(check(pending, 'migrations')).toMatchObject({
      ok: false,
      detail: '1 pending: 005-idempotency-text',
      fix: 'run `ticketflow migrate`',
    });
    const down = doctorChecks(facts({ postgres: { error: 'ECONNREFUSED' } }));
    expect(check(down, 'postgresql').ok).toBe(false);
  });

  it('fails a queue no worker consumes, and warns when the oldest waiting job is over a minute old', () => {
    const none = doctorChecks(
      facts({ queues: [{ name: 'replies', workers: 0, backlog: 3, oldestWaitingAt: NOW - 5000 }] }),
    );
    expect(check(none, 'queue replies')).toMatchObject({
      ok: false,
      detail: 'no worker connected; 3 waiting, oldest 5 s ago',
    });
    const slow = doctorChecks(
      facts({
        queues: [{ name: 'replies', workers: 1, backlog: 900, oldestWaitingAt: NOW - 600_000 }],
      }),
    );
    expect(check(slow, 'queue replies')).toMatchObject({
      ok: true,
      warning: true,
      detail: '1 worker connected; 900 waiting, oldest 10 min ago',
    });
  });

  it('fails mail written only as files in production, and only warns elsewhere', () => {
    const production = check(doctorChecks(facts({ smtp: undefined })), 'smtp');
    expect(production).toMatchObject({
      ok: false,
      detail: 'no SMTP_URL: mail only written as .eml files',
    });
    const development = check(doctorChecks(facts({ smtp: undefined, production: false })), 'smtp');
    expect(development).toMatchObject({ ok: true, warning: true });
    const down = check(
      doctorChecks(facts({ smtp: { url: 'smtp://relay:587', error: 'ETIMEDOUT' } })),
      'smtp',
    );
    expect(down.ok).toBe(false);
  });

  it('fails the development JWT secret and the development mail secret, in any environment', () => {
    const checks = doctorChecks(
      facts({ production: false, devJwtSecret: true, devMailSecret: true }),
    );
    expect(check(checks, 'jwt secret')).toMatchObject({ ok: false });
    expect(check(checks, 'mail secret')).toMatchObject({ ok: false });
  });
});

describe('the bridge senders check', () => {
  it('fails staff addresses without sender authentication in production, warns elsewhere', () => {
    const unchecked = { bridge: { staffAddresses: 2, authservId: undefined } };
    expect(check(doctorChecks(facts(unchecked)), 'bridge senders')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('a forged staff address posts a staff reply') as string,
      fix: expect.stringContaining('TICKETFLOW_BRIDGE_AUTHSERV_ID') as string,
    });
    expect(
      check(doctorChecks(facts({ ...unchecked, production: false })), 'bridge senders'),
    ).toMatchObject({ ok: true, warning: true });
  });

  it('passes with an authserv-id, or with no staff addresses to forge', () => {
    expect(
      check(
        doctorChecks(facts({ bridge: { staffAddresses: 2, authservId: 'mx.help.example' } })),
        'bridge senders',
      ),
    ).toMatchObject({ ok: true, detail: expect.stringContaining('mx.help.example') as string });
    expect(check(doctorChecks(facts()), 'bridge senders')).toMatchObject({ ok: true });
    expect(check(doctorChecks(facts()), 'bridge senders').warning).toBeUndefined();
  });
});

describe('doctorChecks on Redis Cluster', () => {
  const location = 'Redis Cluster a:7000,b:7000';
  /** Three masters; `change` alters the third. */
  function cluster(change: RedisServerFacts['facts'] = server()): Partial<DoctorFacts> {
    return {
      redisLocation: location,
      redis: [
        { address: 'a:7000', facts: server() },
        { address: 'b:7000', facts: server() },
        { address: 'c:7000', facts: change },
      ],
    };
  }

  it('prints each check once when every master passes it alike', () => {
    const checks = doctorChecks(facts(cluster()));
    expect(checks.filter((c) => c.name.startsWith('redis'))).toEqual([
      { name: 'redis', ok: true, detail: `7.2.4 at ${location} (3 masters)` },
      { name: 'redis maxmemory-policy', ok: true, detail: 'noeviction' },
      { name: 'redis persistence', ok: true, detail: 'AOF on (appendfsync always)' },
    ]);
  });

  it('names the masters whose answer differs, one line per answer', () => {
    const checks = doctorChecks(
      facts(
        cluster(
          server({ maxmemoryPolicy: 'allkeys-lru', config: { save: '', appendfsync: 'everysec' } }),
        ),
      ),
    );
    const policy = checks.filter((c) => c.name === 'redis maxmemory-policy');
    expect(policy.map((c) => [c.ok, c.detail.split(':')[0]])).toEqual([
      [true, 'a'],
      [false, 'c'],
    ]);
    expect(policy[0]!.detail).toBe('a:7000, b:7000: noeviction');
    expect(policy[1]!.detail).toMatch(/^c:7000: allkeys-lru: under memory pressure/);
    expect(check(checks, 'redis fsync')).toMatchObject({
      ok: true,
      warning: true,
      detail: expect.stringMatching(/^c:7000: appendfsync everysec: /) as unknown,
    });
  });

  it('fails a master that does not answer, and still checks the others', () => {
    const checks = doctorChecks(facts(cluster({ error: 'Connection is closed.' })));
    expect(checks.filter((c) => c.name === 'redis')).toEqual([
      expect.objectContaining({
        ok: false,
        detail: 'unreachable at c:7000: Connection is closed.',
      }),
      expect.objectContaining({ ok: true, detail: `7.2.4 at ${location} (3 masters)` }),
    ]);
    expect(check(checks, 'redis maxmemory-policy')).toMatchObject({
      ok: true,
      detail: 'a:7000, b:7000: noeviction',
    });
  });

  it('fails a master older than 6.2, naming it', () => {
    expect(
      check(doctorChecks(facts(cluster(server({ version: '6.0.16' })))), 'redis'),
    ).toMatchObject({ ok: false, detail: '6.0.16 at c:7000: BullMQ needs 6.2 or newer' });
  });
});

describe('formatCheck', () => {
  it('prints a pass, a warning and a failure each on one line, the fix after the detail', () => {
    expect(formatCheck({ name: 'migrations', ok: true, detail: 'current' })).toBe(
      '✓ migrations: current',
    );
    expect(formatCheck({ name: 'smtp', ok: true, warning: true, detail: 'd', fix: 'f' })).toBe(
      '! smtp: d — fix: f',
    );
    expect(formatCheck({ name: 'redis', ok: false, detail: 'd', fix: 'f' })).toBe(
      '✗ redis: d — fix: f',
    );
  });
});

describe('withoutCredentials', () => {
  it('drops the user and password of a URL, which doctor output must never carry', () => {
    expect(withoutCredentials('redis://:s3cret@cache:6379/2')).toBe('redis://cache:6379/2');
    expect(withoutCredentials('smtp://user:pw@relay.example:587')).toBe('smtp://relay.example:587');
  });
});

describe('parseRedisInfo', () => {
  it('reads field:value lines and skips section headers', () => {
    const info = parseRedisInfo(
      '# Server\r\nredis_version:7.0.15\r\n\r\n# Persistence\r\naof_enabled:0\r\n',
    );
    expect(info.get('redis_version')).toBe('7.0.15');
    expect(info.get('aof_enabled')).toBe('0');
    expect(info.has('# Server')).toBe(false);
  });
});
