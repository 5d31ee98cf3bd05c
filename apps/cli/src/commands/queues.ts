import { Queue } from 'bullmq';
import type { Config } from '@ticketflow/config';
import { REPLY_QUEUE } from '@ticketflow/contract';
import { createRedis, waitForRedis } from '@ticketflow/queue';
import { CliFailure } from '../runtime.ts';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;
/** Every queue Ticketflow runs. */
const QUEUES = [REPLY_QUEUE];

/** Prints job counts per state per queue; `--json` prints one object scripts can wait on. */
export async function queues(config: Config, options: { json: boolean }): Promise<void> {
  const redis = createRedis(config.redisUrl, 'producer');
  try {
    if (!(await waitForRedis(redis, 5000)))
      throw new CliFailure(`Redis is unreachable at ${config.redisUrl}`);
    const result = [];
    for (const name of QUEUES) {
      const queue = new Queue(name, { connection: redis, prefix: config.queuePrefix });
      try {
        const counts = await queue.getJobCounts(...STATES);
        result.push({ name, counts: Object.fromEntries(STATES.map((s) => [s, counts[s] ?? 0])) });
      } catch (error) {
        throw new CliFailure(
          `cannot read queue ${name}: Redis is unreachable (${(error as Error).message})`,
        );
      } finally {
        await queue.close();
      }
    }
    if (options.json) {
      process.stdout.write(JSON.stringify({ queues: result }) + '\n');
    } else {
      for (const q of result) {
        process.stdout.write(`${q.name}: ${STATES.map((s) => `${s} ${q.counts[s]}`).join(', ')}\n`);
      }
    }
  } finally {
    redis.disconnect();
  }
}
