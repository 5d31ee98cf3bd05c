import type { Config } from '@ticketflow/config';
import { catalogQueues, jobCatalog, openQueue } from '@ticketflow/queue';
import { CliFailure } from '../runtime.ts';
import { withRedis } from './with-redis.ts';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

/**
 * Prints job counts per state for every queue of the catalog, in its order; `--json` prints
 * one object scripts can wait on.
 */
export async function queues(config: Config, options: { json: boolean }): Promise<void> {
  const result = await withRedis(config, async (redis) => {
    const counted = [];
    for (const definition of catalogQueues(jobCatalog(config))) {
      const queue = openQueue(definition, redis, config.queuePrefix);
      try {
        const counts = await queue.getJobCounts(...STATES);
        counted.push({
          name: definition.name,
          counts: Object.fromEntries(STATES.map((s) => [s, counts[s] ?? 0])),
        });
      } catch (error) {
        throw new CliFailure(
          `cannot read queue ${definition.name}: Redis is unreachable (${(error as Error).message})`,
        );
      } finally {
        await queue.close();
      }
    }
    return counted;
  });
  if (options.json) {
    process.stdout.write(JSON.stringify({ queues: result }) + '\n');
  } else {
    for (const q of result) {
      process.stdout.write(`${q.name}: ${STATES.map((s) => `${s} ${q.counts[s]}`).join(', ')}\n`);
    }
  }
}
