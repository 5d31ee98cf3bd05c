import type { RequestRecord } from './load.ts';
import type { Delivery, PersistedRow, QueueCounts } from './observe.ts';

/** One line of the table. */
export interface PhaseRow {
  phase: string;
  sent: number;
  answered200: number;
  refused: number;
  /** Requests that gave up, their retries spent on network errors and 503s. */
  networkErrors: number;
  persisted: number;
  /** Stored rows beyond the first of a request. */
  duplicates: number;
  /** Requests answered 200 with nothing stored. */
  lost: number;
  /** Distinct notifications received (by Message-ID and webhook-id) for the phase's replies. */
  notificationsDelivered: number;
  /** Receipts of a notification beyond its first. */
  duplicateDeliveries: number;
  /** From the end of the fault to the first proof of work after it; null when there was none. */
  secondsToRecover: number | null;
}

export interface TallyInput {
  phase: string;
  requests: readonly RequestRecord[];
  persisted: readonly PersistedRow[];
  /** Every delivery so far; only those of this phase's replies count. */
  deliveries: readonly Delivery[];
  /**
   * What proves the service recovered: a reply persisted for a request sent after the fault and
   * every worker consuming, or (the receiver's own fault) a webhook received after it.
   */
  recoveryEvidence: 'reply' | 'webhook';
  faultEndedAt: number;
  /** When each worker was first seen completing a reply job after the fault; null: never. */
  workersConsumedAt: Readonly<Record<string, number | null>>;
  webhookArrivals: readonly number[];
  /** Whether a process was taken away between a send and its record (a kill, a freeze). */
  allowsDuplicateDeliveries: boolean;
  drained: boolean;
  /** Queue counts when the drain ended. */
  queueCounts: QueueCounts;
  recoveryLimitS: number;
}

/** The notifications of one client reply: the department's email and the one endpoint's webhook. */
const NOTIFICATIONS_PER_REPLY = 2;

/** The phase's row and every invariant it breaks, in words (none: the phase passed). */
export function tallyPhase(input: TallyInput): { row: PhaseRow; violations: string[] } {
  const violations: string[] = [];
  const rowsByMarker = new Map<string, PersistedRow[]>();
  for (const row of input.persisted) {
    rowsByMarker.set(row.marker, [...(rowsByMarker.get(row.marker) ?? []), row]);
  }
  const stored = (r: RequestRecord) => rowsByMarker.get(r.marker)?.length ?? 0;
  const answered = input.requests.filter((r) => r.outcome === 'answered');
  const refused = input.requests.filter((r) => r.outcome === 'refused');
  const lost = answered.filter((r) => stored(r) === 0);
  const duplicates = [...rowsByMarker.values()].reduce((n, rows) => n + rows.length - 1, 0);

  note(violations, lost, 'answered 200 but not stored');
  note(
    violations,
    input.requests.filter((r) => stored(r) > 1),
    'stored more than once',
  );
  note(
    violations,
    refused.filter((r) => stored(r) > 0),
    'refused but stored',
  );
  note(
    violations,
    refused.filter((r) => r.valid),
    'valid but refused',
  );
  note(
    violations,
    answered.filter((r) => !r.valid),
    'invalid but answered 200',
  );

  // Receipts per id (what receivers dedupe by), and which reply's email and webhook arrived.
  const replyUids = new Set(input.persisted.map((r) => r.replyUid));
  const receipts = new Map<string, number>();
  const covered = new Set<string>();
  for (const d of input.deliveries) {
    if (!replyUids.has(d.replyUid)) continue;
    receipts.set(d.id, (receipts.get(d.id) ?? 0) + 1);
    covered.add(`${d.replyUid} ${d.channel}`);
  }
  const duplicateDeliveries = [...receipts.values()].reduce((n, count) => n + count - 1, 0);
  const missing = replyUids.size * NOTIFICATIONS_PER_REPLY - covered.size;
  if (missing > 0) violations.push(`${missing} notifications never delivered`);
  if (duplicateDeliveries > 0 && !input.allowsDuplicateDeliveries) {
    violations.push(
      `${duplicateDeliveries} duplicate deliveries, though no process died between a send and its record`,
    );
  }

  for (const [queue, counts] of Object.entries(input.queueCounts)) {
    const stuck = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.prioritized ?? 0);
    if (stuck > 0) violations.push(`${stuck} jobs stuck in ${queue} (${JSON.stringify(counts)})`);
  }
  if (!input.drained) violations.push('the queues and the outbox did not drain in time');

  for (const [worker, at] of Object.entries(input.workersConsumedAt)) {
    if (at === null) {
      violations.push(`${worker} took no reply job within ${input.recoveryLimitS} s of the fault`);
    }
  }
  const secondsToRecover = recoverySeconds(input, rowsByMarker);
  if (secondsToRecover === null) violations.push('no proof of recovery after the fault');
  else if (secondsToRecover > input.recoveryLimitS) {
    violations.push(`recovered in ${secondsToRecover} s, over ${input.recoveryLimitS} s`);
  }

  return {
    row: {
      phase: input.phase,
      sent: input.requests.length,
      answered200: answered.length,
      refused: refused.length,
      networkErrors: input.requests.filter((r) => r.outcome === 'gave-up').length,
      persisted: input.persisted.length,
      duplicates,
      lost: lost.length,
      notificationsDelivered: receipts.size,
      duplicateDeliveries,
      secondsToRecover,
    },
    violations,
  };
}

/**
 * Seconds from the fault's end until the whole path works again: the first reply persisted for
 * a request first sent after it (ingress, Redis, a worker, PostgreSQL) and every worker process
 * seen completing a reply job (polled every 0.5 s), whichever is later; for the receiver's own
 * fault, the first webhook it received after it. One decimal; null without that proof.
 */
function recoverySeconds(
  input: TallyInput,
  rowsByMarker: ReadonlyMap<string, readonly PersistedRow[]>,
): number | null {
  const after = (t: number) => t >= input.faultEndedAt;
  let recoveredAt: number | undefined;
  if (input.recoveryEvidence === 'webhook') {
    recoveredAt = earliest(input.webhookArrivals.filter(after));
  } else {
    const firstReply = earliest(
      input.requests
        .filter((r) => after(r.firstSentAt))
        .flatMap((r) => rowsByMarker.get(r.marker) ?? [])
        .map((row) => row.persistedAt),
    );
    const workers = Object.values(input.workersConsumedAt);
    recoveredAt =
      firstReply === undefined || workers.includes(null)
        ? undefined
        : Math.max(firstReply, ...(workers as number[]));
  }
  if (recoveredAt === undefined) return null;
  return Math.round((recoveredAt - input.faultEndedAt) / 100) / 10;
}

function earliest(times: readonly number[]): number | undefined {
  return times.length === 0 ? undefined : Math.min(...times);
}

/** Adds "N requests <what> (first markers …)" when there are any. */
function note(violations: string[], requests: readonly RequestRecord[], what: string): void {
  if (requests.length === 0) return;
  const sample = requests
    .slice(0, 3)
    .map((r) => `${r.marker}${r.status ? ` ${r.status}${r.code ? ` ${r.code}` : ''}` : ''}`);
  violations.push(`${requests.length} requests ${what} (e.g. ${sample.join(', ')})`);
}
