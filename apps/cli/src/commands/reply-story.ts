import type { ReplyHistory, StoredDeadLetter } from '@ticketflow/db';
import type { ReplyState } from '@ticketflow/ingress';
import { describeDeadReason, type ReplyJob } from '@ticketflow/contract';

/** The BullMQ job of a reply, as far as Redis still holds it. */
export interface ReplyJobFacts {
  id: string;
  state: string;
  /** When it was added (BullMQ's timestamp). */
  timestamp: number;
  attemptsMade: number;
  attemptsAllowed: number;
  /** The last attempt's start and end (ms since the epoch). */
  processedOn: number | undefined;
  finishedOn: number | undefined;
  failedReason: string | undefined;
  /** One stack per failed attempt, oldest first. */
  stacktrace: readonly string[];
  data: unknown;
}

/** Everything `ticketflow reply` prints, as `--json` prints it. */
export interface ReplyStory {
  replyid: string;
  status: ReplyState['status'];
  /** `failed` or `dead`: the public sentence. */
  reason: string | null;
  ticketid: number | null;
  acceptedAt: string | null;
  persistedAt: string | null;
  job: {
    id: string;
    state: string;
    attemptsMade: number;
    attemptsAllowed: number;
    lastAttempt: { startedAt: string | null; finishedAt: string | null };
    /** The first line of each failed attempt's error, oldest first. */
    failures: string[];
    failedReason: string | null;
  } | null;
  notifications: Array<{
    channel: 'email' | 'webhook';
    /** The address, or the endpoint URL. */
    to: string | null;
    state: 'delivered' | 'failed' | 'dispatched' | 'pending';
    createdAt: string;
    dispatchedAt: string | null;
    deliveredAt: string | null;
    failedAt: string | null;
    detail: string | null;
    attempts: Array<{
      at: string;
      httpStatus: number | null;
      durationMs: number;
      error: string | null;
    }>;
  }>;
  deadLetter: {
    id: number;
    reason: string;
    sentence: string;
    failedAt: string;
    attempts: number;
    replayedAt: string | null;
  } | null;
}

/**
 * Puts together what PostgreSQL (the stored reply, its outbox rows, a dead letter) and Redis
 * (the job, while BullMQ keeps it) know of one reply. Pure.
 */
export function tellReplyStory(
  replyid: string,
  state: ReplyState,
  facts: {
    job: ReplyJobFacts | undefined;
    history: ReplyHistory | undefined;
    dead: StoredDeadLetter | undefined;
  },
): ReplyStory {
  const { job, history, dead } = facts;
  const payload = (job?.data ?? dead?.payload) as Partial<ReplyJob> | undefined;
  const acceptedAt =
    history?.receivedAt.toISOString() ??
    payload?.receivedAt ??
    (job ? new Date(job.timestamp).toISOString() : null);
  return {
    replyid,
    status: state.status,
    reason: state.reason ?? null,
    ticketid: state.ticketid ?? null,
    acceptedAt,
    persistedAt: state.persistedAt ?? null,
    job: job
      ? {
          id: job.id,
          state: job.state,
          attemptsMade: job.attemptsMade,
          attemptsAllowed: job.attemptsAllowed,
          lastAttempt: { startedAt: isoOf(job.processedOn), finishedAt: isoOf(job.finishedOn) },
          failures: job.stacktrace.map((stack) => stack.split('\n', 1)[0] ?? ''),
          failedReason: job.failedReason ?? null,
        }
      : null,
    notifications: (history?.notifications ?? []).map((n) => ({
      channel: n.channel,
      to: n.endpoint?.url ?? n.recipient,
      state: n.deliveredAt
        ? 'delivered'
        : n.failedAt
          ? 'failed'
          : n.dispatchedAt
            ? 'dispatched'
            : 'pending',
      createdAt: n.createdAt.toISOString(),
      dispatchedAt: n.dispatchedAt?.toISOString() ?? null,
      deliveredAt: n.deliveredAt?.toISOString() ?? null,
      failedAt: n.failedAt?.toISOString() ?? null,
      detail: n.detail,
      attempts: n.attempts.map((a) => ({
        at: a.attemptedAt.toISOString(),
        httpStatus: a.httpStatus,
        durationMs: a.durationMs,
        error: a.error,
      })),
    })),
    deadLetter: dead
      ? {
          id: dead.id,
          reason: dead.reason,
          sentence: describeDeadReason(dead.reason),
          failedAt: dead.failedAt.toISOString(),
          attempts: dead.attempts,
          replayedAt: dead.replayedAt?.toISOString() ?? null,
        }
      : null,
  };
}

/** The story as lines for a terminal: a label column, then what happened, oldest first. */
export function formatReplyStory(story: ReplyStory): string {
  const lines = [
    `reply ${story.replyid}: ${story.status}${story.reason ? ` (${story.reason})` : ''}`,
  ];
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(13)}${text}`);
  if (story.ticketid !== null) row('ticket', String(story.ticketid));
  row('accepted', story.acceptedAt ?? 'unknown');
  const { job } = story;
  if (job) {
    row(
      'job',
      `${job.id}: ${job.state}, ${job.attemptsMade} of ${job.attemptsAllowed} attempts made`,
    );
    job.failures.forEach((failure, i) => row(`  attempt ${i + 1}`, `failed: ${failure}`));
    if (job.lastAttempt.startedAt) {
      row(
        '  last',
        `started ${job.lastAttempt.startedAt}` +
          (job.lastAttempt.finishedAt ? `, ended ${job.lastAttempt.finishedAt}` : ''),
      );
    }
  } else {
    row('job', 'no longer in Redis (completed jobs are kept an hour, failed ones 30 days)');
  }
  row('persisted', story.persistedAt ?? 'not yet');
  if (story.notifications.length === 0) row('notified', 'nobody');
  for (const n of story.notifications) {
    const when = n.deliveredAt ?? n.failedAt ?? n.dispatchedAt ?? n.createdAt;
    const detail = n.detail ? `: ${n.detail}` : '';
    row(`${n.channel}`, `${n.to ?? '(endpoint removed)'} ${n.state} ${when}${detail}`);
    for (const a of n.attempts) {
      const outcome = a.httpStatus !== null ? `HTTP ${a.httpStatus}` : (a.error ?? 'no answer');
      row('  attempt', `${a.at} ${outcome} (${a.durationMs} ms)`);
    }
  }
  const dead = story.deadLetter;
  row(
    'dead letter',
    dead
      ? `#${dead.id} ${dead.reason}: ${dead.sentence} (${dead.failedAt}` +
          `${dead.replayedAt ? `, replayed ${dead.replayedAt}` : ''}; \`ticketflow dlq show ${dead.id}\`)`
      : 'none',
  );
  return `${lines.join('\n')}\n`;
}

function isoOf(ms: number | undefined): string | null {
  return ms ? new Date(ms).toISOString() : null;
}
