import type { ServeProcess } from './serve-process.ts';

/**
 * Reply jobs a process has completed, read from its Prometheus text: the sum of
 * `ticketflow_jobs_completed_total` over the `replies` queue's job names.
 */
export function completedReplyJobs(metrics: string): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith('ticketflow_jobs_completed_total{') && line.includes('queue="replies"')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/** A worker's completed reply jobs now; undefined when it does not answer. */
async function readCompleted(worker: ServeProcess, opsToken: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${worker.url}/metrics`, {
      headers: { authorization: `Bearer ${opsToken}` },
      signal: AbortSignal.timeout(2_000),
    });
    return res.ok ? completedReplyJobs(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

/** How often a worker that has not consumed yet is asked again. */
const POLL_MS = 500;

/**
 * Watches every worker process from now until each has completed a reply job more than it had
 * (each consumes again, not only some of them: the known BullMQ failure is one worker that stops
 * after a reconnect while the others go on), or until `deadline`. Resolves with when each was
 * first seen to have, by name; null for one that never did.
 */
export async function watchWorkersConsume(
  workers: readonly ServeProcess[],
  opsToken: string,
  deadline: number,
): Promise<Record<string, number | null>> {
  const baselines = await Promise.all(workers.map((w) => readCompleted(w, opsToken)));
  const consumedAt = new Map<ServeProcess, number>();
  while (consumedAt.size < workers.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    await Promise.all(
      workers.map(async (worker, i) => {
        if (consumedAt.has(worker)) return;
        const completed = await readCompleted(worker, opsToken);
        if (completed !== undefined && completed > (baselines[i] ?? 0)) {
          consumedAt.set(worker, Date.now());
        }
      }),
    );
  }
  return Object.fromEntries(workers.map((w) => [w.name, consumedAt.get(w) ?? null]));
}
