import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { redisUrl } from '@ticketflow/testing';
import { startRedisServer } from '@ticketflow/testing/peers';
import { lines, useCliFixture } from './run-cli.ts';

const cli = useCliFixture();

interface DoctorJson {
  ok: boolean;
  checks: Array<{ name: string; ok: boolean; warning?: boolean; detail: string; fix?: string }>;
}

async function doctorJson(
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: DoctorJson }> {
  const result = await cli.run(['doctor', '--json'], env);
  expect(lines(result.stdout)).toHaveLength(1);
  return { code: result.code, out: JSON.parse(result.stdout) as DoctorJson };
}

async function configGet(url: string, parameter: string): Promise<string> {
  const redis = new Redis(url);
  try {
    return ((await redis.config('GET', parameter)) as string[])[1] ?? '';
  } finally {
    redis.disconnect();
  }
}

describe('ticketflow doctor', () => {
  it("exits 1 against this machine's Redis, which persists nothing, naming that check and its fix", async () => {
    // The premise: CI starts this Redis with --save "" --appendonly no.
    expect(await configGet(redisUrl(), 'appendonly')).toBe('no');
    expect(await configGet(redisUrl(), 'save')).toBe('');

    const text = await cli.run(['doctor'], cli.env());
    expect(text.code).toBe(1);
    const persistence = lines(text.stdout).filter((l) => l.includes('redis persistence'));
    expect(persistence).toEqual([
      '✗ redis persistence: off (no AOF, no RDB snapshots): a Redis restart loses every accepted reply not yet stored — fix: CONFIG SET appendonly yes and CONFIG SET appendfsync always, and write both into redis.conf (docker-compose.yml runs Redis that way)',
    ]);
    expect(lines(text.stdout)).toContainEqual(expect.stringMatching(/^✓ postgresql: \d+/));
    expect(lines(text.stdout)).toContainEqual('✓ migrations: current');
    expect(lines(text.stderr)).toEqual([
      expect.stringMatching(/^ticketflow: doctor: \d+ of \d+ checks failed$/),
    ]);

    const { code, out } = await doctorJson(cli.env());
    expect(code).toBe(1);
    expect(out.ok).toBe(false);
    for (const c of out.checks) {
      expect(
        Object.keys(c).filter((k) => !['name', 'ok', 'warning', 'detail', 'fix'].includes(k)),
      ).toEqual([]);
    }
    expect(out.checks.find((c) => c.name === 'redis persistence')).toMatchObject({
      ok: false,
      fix: expect.stringMatching(/^CONFIG SET appendonly yes/) as unknown,
    });
  });

  it('passes the persistence check once AOF is switched on, warning about appendfsync everysec', async () => {
    const server = await startRedisServer();
    onTestFinished(() => server.close());
    const admin = new Redis(server.url);
    onTestFinished(() => admin.disconnect());
    expect(await admin.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    await admin.config('SET', 'appendonly', 'yes');

    const { out } = await doctorJson(cli.env({ REDIS_URL: server.url }));
    expect(out.checks.find((c) => c.name === 'redis persistence')).toEqual({
      name: 'redis persistence',
      ok: true,
      detail: 'AOF on (appendfsync everysec)',
    });
    expect(out.checks.find((c) => c.name === 'redis fsync')).toMatchObject({
      ok: true,
      warning: true,
      detail:
        'appendfsync everysec: a Redis crash can lose about the last second of accepted replies',
    });

    await admin.config('SET', 'appendfsync', 'always');
    const always = await doctorJson(cli.env({ REDIS_URL: server.url }));
    expect(always.out.checks.map((c) => c.name)).not.toContain('redis fsync');
  });

  it('fails an SMTP server that does not answer, and the development secrets', async () => {
    const { out } = await doctorJson(
      cli.env({ SMTP_URL: 'smtp://127.0.0.1:1', NODE_ENV: 'production' }),
    );
    expect(out.checks.find((c) => c.name === 'smtp')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^smtp:\/\/127\.0\.0\.1:1 unreachable: /) as unknown,
    });
    expect(out.checks.filter((c) => /secret/.test(c.name))).toEqual([
      expect.objectContaining({ name: 'jwt secret', ok: false }),
      expect.objectContaining({ name: 'mail secret', ok: false }),
    ]);
  });
});
