import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startRedisServer, until } from '@ticketflow/testing/peers';
import { startNotifyingStack } from './notifying-stack.ts';
import { useCliFixture } from './run-cli.ts';

const cli = useCliFixture();

describe('Redis connections per process (README, Connections per process)', () => {
  it('holds 1 for an ingress, 2 once a Prefer: wait opened the event stream, and 5 for a worker', async () => {
    // A Redis of its own: CLIENT LIST then shows this test's processes and nothing else.
    const server = await startRedisServer();
    onTestFinished(() => server.close());
    const admin = new Redis(server.url);
    onTestFinished(() => admin.disconnect());
    const others = async () =>
      ((await admin.client('LIST')) as string).trim().split('\n').length - 1;
    /** The count once it has stopped moving: the same in two reads 300 ms apart. */
    const settled = (expected: number) =>
      until(
        `${expected} connections`,
        async () => {
          const first = await others();
          await new Promise((resolve) => setTimeout(resolve, 300));
          return first === expected && (await others()) === expected;
        },
        15_000,
      );

    const stack = await startNotifyingStack(cli, {
      env: { REDIS_URL: server.url },
      serveArgs: ['--ingress'],
    });
    onTestFinished(() => stack.close());
    await settled(1);

    // No worker runs: the answer comes when the wait is over, from the event stream's reader.
    const answer = await stack.postReply('counted', { waitS: 1 });
    expect(answer.status).toBe(200);
    await settled(2);

    const worker = await stack.serve(['--worker']);
    onTestFinished(async () => {
      worker.child.kill('SIGTERM');
      await worker.exited;
    });
    await settled(2 + 5);
  });
});
