import { describe, expect, it } from 'vitest';
import type { ReplyJob } from '@ticketflow/contract';
import { replyJob, until, useWorkerFixture, type WorkerProcess } from './worker-fixture.ts';

const fixture = useWorkerFixture({ tidPrefix: 'SD', subject: 'graceful shutdown' });
const { newTicket, enqueue, replyCount, lockTicket, waitUntilBlockedMidTransaction } = fixture;

/** A staff reply to `ticketId`, sent while a deployment stops the worker. */
function deployReply(ticketId: number): ReplyJob {
  return replyJob(ticketId, {
    message: 'Deploying the fix now.',
    source: { kind: 'api', principal: 'shutdown-test' },
  });
}

/**
 * A `serve --worker` process that drains for up to `shutdownTimeoutMs`, stopped mid-job: the
 * job's reply inserted, its ticket update waiting on the row lock the test holds.
 */
async function workerBlockedMidJob(shutdownTimeoutMs: number) {
  const ticketId = await newTicket();
  const lock = await lockTicket(ticketId);
  const data = deployReply(ticketId);
  const job = await enqueue(data);
  const worker = fixture.spawnWorker({
    TICKETFLOW_SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    LOG_LEVEL: 'info',
  });
  await waitUntilBlockedMidTransaction(job, 1, worker.output);
  return { ticketId, lock, data, job, worker };
}

/** The exit, or a failure carrying the process's log once `timeoutMs` has passed. */
async function exitWithin(
  worker: WorkerProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`worker did not exit within ${timeoutMs} ms of SIGTERM\n${worker.output()}`),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([worker.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** An in-process worker standing in for the next deployment. */
function startLaterWorker(): void {
  fixture.startWorker(4);
}

// ---------------------------------------------------------------------------------------------

describe('SIGTERM on a worker process', () => {
  it('finishes the active job, takes no new one and exits 0 within the shutdown timeout', async () => {
    const SHUTDOWN_MS = 5000;
    const { ticketId, lock, data, job, worker } = await workerBlockedMidJob(SHUTDOWN_MS);

    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    await until('the worker to start draining', () =>
      Promise.resolve(worker.output().includes('shutting down')),
    );
    // Draining: still running, holding the active job, and fetching nothing new.
    const late = deployReply(ticketId);
    const lateJob = await enqueue(late);
    expect(worker.child.exitCode).toBeNull();
    await lock.release();

    expect(await exitWithin(worker, SHUTDOWN_MS + 1000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(SHUTDOWN_MS);
    expect(worker.output()).toContain('"msg":"stopped"');
    const done = (await fixture.queue.getJob(job.id!))!;
    expect(await done.getState()).toBe('completed');
    expect(done.returnvalue).toEqual({
      replyid: data.replyid,
      outcome: 'inserted',
      notifications: 0,
    });
    expect(done.stalledCounter).toBe(0);
    expect(await replyCount({ dedupe_key: data.dedupeKey })).toBe(1);

    // The job that arrived during the drain was left for the next worker, not lost.
    expect(await lateJob.getState()).toBe('waiting');
    startLaterWorker();
    await expect(lateJob.waitUntilFinished(fixture.events, 10_000)).resolves.toMatchObject({
      outcome: 'inserted',
    });
    expect(await replyCount({ dedupe_key: late.dedupeKey })).toBe(1);
  });

  it('abandons a job that outlasts the shutdown timeout, exits 0, and a later worker completes it once', async () => {
    const SHUTDOWN_MS = 1500;
    const { lock, data, job, worker } = await workerBlockedMidJob(SHUTDOWN_MS);

    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    // The lock is still held: the job cannot finish, so only the timeout can end the drain.
    const exit = await exitWithin(worker, SHUTDOWN_MS + 3000);
    const drainMs = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(drainMs).toBeGreaterThanOrEqual(SHUTDOWN_MS - 100);
    expect(worker.output()).toContain('did not finish in time');
    expect(await replyCount({ dedupe_key: data.dedupeKey })).toBe(0);

    await lock.release();
    startLaterWorker();
    // The abandoned statement may still commit once the lock frees (PostgreSQL notices the
    // exited client only when it next talks to it); the later worker then finds it stored.
    await expect(job.waitUntilFinished(fixture.events, 10_000)).resolves.toEqual({
      replyid: data.replyid,
      outcome: expect.stringMatching(/^(inserted|duplicate)$/) as unknown,
      notifications: 0,
    });
    expect((await fixture.queue.getJob(job.id!))!.stalledCounter).toBe(1);
    expect(await replyCount({ dedupe_key: data.dedupeKey })).toBe(1);
  });
});
