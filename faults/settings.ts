import { parseConfig } from '@ticketflow/config';

/**
 * The run's knobs in one place: how hard the load pushes, how long each fault lasts, and the
 * product settings the stack runs with where they differ from the defaults.
 */
export const SETTINGS = {
  /** Logical requests started per second, whatever the answers (an open-loop load). */
  ratePerSecond: 20,
  /**
   * `serve --worker` processes. A replacement takes 3–8 s to start under the load on 2 cores:
   * four give a kill each second a target most seconds.
   */
  workers: 4,
  /** Load before the fault begins, and at least this long after it ends (something to recover). */
  leadMs: 2_000,
  tailMs: 6_000,
  /** A logical request retries network errors, 503, 409 and 429 for this long, then gives up. */
  requestDeadlineMs: 60_000,
  /** One attempt's deadline: a request to a frozen or dying ingress must end. */
  attemptTimeoutMs: 15_000,
  /** Bound on the wait for the queues and the outbox to empty after a phase. */
  drainTimeoutMs: 90_000,
  /** The bound: workers consume again within 30 s of the fault ending. */
  recoveryLimitS: 30,
  /** Phase 1: a kill each second for this long (of the oldest worker up, when one is). */
  workerKillSeconds: 10,
  /** Phases 3 and 4: how long Redis stays down. */
  redisDownMs: 3_000,
  /** Phase 5: every backend terminated once a second for this many seconds. */
  pgTerminateSeconds: 5,
  /** Phase 7: how long the webhook receiver is down. */
  receiverDownMs: 8_000,
  /** Tickets the load spreads over (one ticket would serialise every commit on its row lock). */
  tickets: 16,
  /** The long fuzz of apps/ingress/test/fuzz.test.ts. */
  fuzzRuns: 2_000,
} as const;

/**
 * Product settings that differ from the defaults, most to keep a phase within the run's time:
 * the short email backoff and webhook schedule let retries finish within a phase, the outbox sweep
 * re-enqueues what a killed worker committed but never dispatched. Rate limits are raised: the
 * load is one client on a few tickets, and a 429 would only measure the limiter. Locks and
 * stalled checks keep their defaults: phases 1 and 6 test them as shipped.
 */
export const STACK_ENV = {
  TICKETFLOW_EMAIL_BACKOFF_MS: '500',
  TICKETFLOW_WEBHOOK_SCHEDULE: '1s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s',
  TICKETFLOW_OUTBOX_SWEEP_SECONDS: '5',
  // Five processes share the PostgreSQL server with whatever else runs (max_connections 100 on
  // a stock install), and phase 5 makes them all reconnect at once.
  TICKETFLOW_DB_POOL_MAX: '5',
  TICKETFLOW_RATE_LIMIT_PER_PRINCIPAL: '1000000',
  TICKETFLOW_RATE_LIMIT_PER_TICKET: '1000000',
  TICKETFLOW_WEBHOOK_ALLOW_PRIVATE: 'true',
  TICKETFLOW_ACCESS_LOG: 'false',
  LOG_LEVEL: 'info',
} as const;

/**
 * Phase 6 freezes a worker past its lock and the next stalled check, the longest a job can stay
 * with it before another worker takes it over. The reply worker reads both from the configuration
 * (defaults here); the notification and maintenance workers run BullMQ's, the same 30 s and 30 s.
 */
const { lockDurationMs, stalledIntervalMs } = parseConfig({}).worker;
export const FREEZE_MS = lockDurationMs + stalledIntervalMs + 2_000;
