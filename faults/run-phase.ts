import { MAINTENANCE_QUEUE } from '@ticketflow/queue';
import { watchWorkersConsume } from './consumption.ts';
import { startLoad, type RequestRecord } from './load.ts';
import {
  countOwedNotifications,
  countStalledJobs,
  lastDeadLetterId,
  readDeadLetters,
  readDeliveries,
  readPersisted,
  readQueueCounts,
  webhookArrivals,
  type DeadLetterSummary,
  type QueueCounts,
} from './observe.ts';
import type { Phase } from './phases.ts';
import { phaseMarkerPrefix } from './requests.ts';
import { SETTINGS } from './settings.ts';
import type { FaultStack } from './stack.ts';
import { tallyPhase, type PhaseRow } from './tally.ts';

export interface PhaseResult {
  row: PhaseRow;
  violations: string[];
  /** What the JSON keeps beside the row, to explain it. */
  details: {
    fault: string;
    faultSeconds: number;
    drainSeconds: number;
    retries: Record<string, number>;
    finalAnswers: Record<string, number>;
    /** Jobs BullMQ re-ran because their worker's lock lapsed, per queue. */
    stalled: Record<string, number>;
    deadLetters: DeadLetterSummary[];
    queueCounts: QueueCounts;
    readiness: Record<string, number>;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One phase: a load of its own starts, the fault comes after a lead and is lifted, the load
 * runs on for a tail (so there is something to recover), every request finishes its retries,
 * the pipeline drains, and the phase is tallied.
 */
export async function runPhase(
  stack: FaultStack,
  phase: Phase,
  progress: (line: string) => void,
): Promise<PhaseResult> {
  const began = Date.now();
  const lastDeadLetter = await lastDeadLetterId(stack.database.db);
  const load = startLoad({
    url: stack.url,
    token: stack.token,
    run: stack.run,
    phase: phase.id,
    ticketIds: stack.database.ticketIds,
    ratePerSecond: SETTINGS.ratePerSecond,
    deadlineMs: SETTINGS.requestDeadlineMs,
    attemptTimeoutMs: SETTINGS.attemptTimeoutMs,
  });
  let inflicted, faultBeganAt, faultEndedAt;
  try {
    await sleep(SETTINGS.leadMs);
    faultBeganAt = Date.now();
    inflicted = await phase.inflict(stack, progress);
    faultEndedAt = Date.now();
  } catch (error) {
    // No phase after a failed fault: its load stops here, and the run ends.
    await load.stop();
    throw error;
  }
  const faultSeconds = (faultEndedAt - faultBeganAt) / 1000;
  progress(`fault over after ${faultSeconds.toFixed(1)} s: ${inflicted.what}`);
  // The load runs on for the tail, and longer while a worker has taken no job since the fault
  // (up to the recovery bound): a worker may only be judged stuck while there is work to take.
  const [, workersConsumedAt] = await Promise.all([
    sleep(SETTINGS.tailMs),
    watchWorkersConsume(
      stack.workers(),
      stack.opsToken,
      faultEndedAt + SETTINGS.recoveryLimitS * 1000 + 1000,
    ),
  ]);
  progress(`${load.started()} requests sent; waiting for their answers`);
  const requests = await load.stop();

  const drainBeganAt = Date.now();
  const drain = await waitForDrain(stack);
  const drainSeconds = (Date.now() - drainBeganAt) / 1000;
  progress(`${drain.drained ? 'drained' : 'NOT drained'} in ${drainSeconds.toFixed(1)} s`);

  const { row, violations } = tallyPhase({
    phase: `${phase.id}. ${phase.name}`,
    requests,
    persisted: await readPersisted(stack.database.db, phaseMarkerPrefix(stack.run, phase.id)),
    deliveries: readDeliveries(stack.smtp, stack.hooks),
    recoveryEvidence: phase.recoveryEvidence,
    faultEndedAt,
    workersConsumedAt,
    webhookArrivals: webhookArrivals(stack.hooks),
    allowsDuplicateDeliveries: phase.allowsDuplicateDeliveries,
    drained: drain.drained,
    queueCounts: drain.counts,
    recoveryLimitS: SETTINGS.recoveryLimitS,
  });
  violations.push(...inflicted.problems);
  const readiness = await readReadiness(stack);
  for (const [name, status] of Object.entries(readiness)) {
    if (status !== 200) violations.push(`${name} /readyz answers ${status} after the phase`);
  }
  return {
    row,
    violations,
    details: {
      fault: inflicted.what,
      faultSeconds,
      drainSeconds,
      retries: sumRetries(requests),
      finalAnswers: countFinalAnswers(requests),
      stalled: await countStalledJobs(stack.observer, stack.queues, began),
      deadLetters: await readDeadLetters(stack.database.db, lastDeadLetter),
      queueCounts: drain.counts,
      readiness,
    },
  };
}

/**
 * Waits until no reply or notification job is waiting, active, delayed or prioritized, no
 * maintenance job is waiting or active (its schedulers always have one delayed), and the outbox
 * owes nothing; gives up after the drain bound and reports the counts it saw last.
 */
async function waitForDrain(stack: FaultStack): Promise<{ drained: boolean; counts: QueueCounts }> {
  const deadline = Date.now() + SETTINGS.drainTimeoutMs;
  for (;;) {
    const counts = await readQueueCounts(stack.queues);
    const owed = await countOwedNotifications(stack.database.db);
    const idle = Object.entries(counts).every(([queue, c]) =>
      queue === MAINTENANCE_QUEUE
        ? (c.waiting ?? 0) + (c.active ?? 0) === 0
        : Object.values(c).every((n) => n === 0),
    );
    if (idle && owed === 0) return { drained: true, counts };
    if (Date.now() > deadline) return { drained: false, counts };
    await sleep(250);
  }
}

/** /readyz of every product process: a worker the watchdog judges stuck answers 503. */
async function readReadiness(stack: FaultStack): Promise<Record<string, number>> {
  const processes = [stack.ingress(), ...stack.workers()];
  const statuses = await Promise.all(
    processes.map((p) =>
      fetch(`${p.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
        (res) => res.status,
        () => 0,
      ),
    ),
  );
  return Object.fromEntries(processes.map((p, i) => [p.name, statuses[i]!]));
}

function sumRetries(requests: readonly RequestRecord[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const r of requests) {
    for (const [cause, n] of Object.entries(r.retries)) sums[cause] = (sums[cause] ?? 0) + n;
  }
  return sums;
}

/** Final answers by status and code (`200`, `400 invalid_boolean`, `network`). */
function countFinalAnswers(requests: readonly RequestRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) {
    const key = r.status === undefined ? 'network' : `${r.status}${r.code ? ` ${r.code}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
