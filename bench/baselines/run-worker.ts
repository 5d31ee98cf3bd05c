import { createServer } from 'node:http';
import { Worker, type Processor } from 'bullmq';
import { Redis } from 'ioredis';
import { env } from './env.ts';

/**
 * Runs a baseline BullMQ worker on the orchestrator's queue with the product's concurrency,
 * answers the health check once connected (the orchestrator starts filling only then), and on
 * SIGTERM closes the worker, then `onClose`.
 */
export async function runBaselineWorker<T>(
  processor: Processor<T>,
  onClose: () => Promise<unknown> = async () => {},
): Promise<void> {
  const worker = new Worker<T>('replies', processor, {
    connection: new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null }),
    prefix: env('TICKETFLOW_QUEUE_PREFIX'),
    concurrency: Number(env('TICKETFLOW_WORKER_CONCURRENCY')),
  });
  await worker.waitUntilReady();
  const health = createServer((_req, res) => res.end('ok')).listen(
    Number(env('PORT')),
    '127.0.0.1',
  );
  process.on('SIGTERM', () => {
    health.close();
    void worker
      .close()
      .then(onClose)
      .then(() => process.exit(0));
  });
}
