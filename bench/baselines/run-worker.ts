import { createServer } from 'node:http';
import { Worker, type Processor } from 'bullmq';
import { Redis } from 'ioredis';
import { env } from './env.ts';

/**
 * Runs a baseline BullMQ worker on the orchestrator's queue with the product's concurrency for
 * it (`replies` by default), answers the health check once connected (the orchestrator starts
 * filling only then), and on SIGTERM closes the worker, then `onClose`.
 */
export async function runBaselineWorker<T>(
  processor: Processor<T>,
  onClose: () => Promise<unknown> = async () => {},
  queue = { name: 'replies', concurrency: Number(env('TICKETFLOW_WORKER_CONCURRENCY')) },
): Promise<void> {
  const worker = new Worker<T>(queue.name, processor, {
    connection: new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null }),
    prefix: env('TICKETFLOW_QUEUE_PREFIX'),
    concurrency: queue.concurrency,
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
