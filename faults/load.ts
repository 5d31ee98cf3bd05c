import { planRequest, requestInit, type Encoding, type PlannedRequest } from './requests.ts';
import { nextStep, type Attempt, type RetryCause } from './retry.ts';

/** One logical request as the client saw it, after all its retries. */
export interface RequestRecord {
  marker: string;
  encoding: Encoding;
  valid: boolean;
  /** When its first attempt went out (ms since the epoch). */
  firstSentAt: number;
  /** `answered`: 200; `refused`: a final error answer; `gave-up`: retries ran out. */
  outcome: 'answered' | 'refused' | 'gave-up';
  /** The last answer's status and error code (none after a network error). */
  status?: number;
  code?: string;
  replyid?: string;
  /** Why the last attempt failed when it got no answer at all. */
  networkError?: string;
  attempts: number;
  retries: Partial<Record<RetryCause, number>>;
}

export interface LoadOptions {
  url: string;
  token: string;
  run: string;
  phase: number;
  ticketIds: readonly number[];
  ratePerSecond: number;
  deadlineMs: number;
  attemptTimeoutMs: number;
}

export interface Load {
  /** Requests started so far. */
  started(): number;
  /** Starts no more requests and waits for every started one to finish its retries. */
  stop(): Promise<RequestRecord[]>;
}

/** How often the load looks whether another request is due. */
const TICK_MS = 25;

/**
 * An open-loop load: requests start at a steady rate whatever the answers, as independent
 * clients would send them, and each retries on its own.
 */
export function startLoad(options: LoadOptions): Load {
  const began = Date.now();
  const running: Array<Promise<RequestRecord>> = [];
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - began) * options.ratePerSecond) / 1000);
    while (running.length < due) {
      const planned = planRequest(options.run, options.phase, running.length, options.ticketIds);
      running.push(send(planned, options));
    }
  }, TICK_MS);
  return {
    started: () => running.length,
    stop() {
      clearInterval(timer);
      return Promise.all(running);
    },
  };
}

async function send(request: PlannedRequest, options: LoadOptions): Promise<RequestRecord> {
  const firstSentAt = Date.now();
  const retries: RequestRecord['retries'] = {};
  for (let attempts = 1; ; attempts++) {
    const { attempt, replyid } = await attemptOnce(request, options);
    const next = nextStep(attempt, attempts, Date.now() - firstSentAt, options.deadlineMs);
    if (next.kind === 'retry') {
      retries[next.why] = (retries[next.why] ?? 0) + 1;
      await new Promise((resolve) => setTimeout(resolve, next.delayMs));
      continue;
    }
    return {
      marker: request.marker,
      encoding: request.encoding,
      valid: request.valid,
      firstSentAt,
      outcome: next.kind === 'gave-up' ? 'gave-up' : next.outcome,
      ...(attempt.kind === 'answer'
        ? { status: attempt.status, ...(attempt.code ? { code: attempt.code } : {}) }
        : { networkError: attempt.error }),
      ...(replyid ? { replyid } : {}),
      attempts,
      retries,
    };
  }
}

async function attemptOnce(
  request: PlannedRequest,
  options: LoadOptions,
): Promise<{ attempt: Attempt; replyid?: string }> {
  try {
    const res = await fetch(`${options.url}/api/v2/add-ticket-reply`, {
      ...requestInit(request, options.token),
      signal: AbortSignal.timeout(options.attemptTimeoutMs),
    });
    const text = await res.text();
    const body = parseObject(text);
    const code = typeof body.code === 'string' ? body.code : undefined;
    return {
      attempt: {
        kind: 'answer',
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        ...(code ? { code } : {}),
      },
      ...(typeof body.replyid === 'string' ? { replyid: body.replyid } : {}),
    };
  } catch (error) {
    // A refused connection, a reset mid-answer, the attempt's timeout: nothing was answered.
    return { attempt: { kind: 'network', error: (error as Error).message } };
  }
}

/** An answer's JSON object; an empty one when the body is not JSON (a bare proxy error). */
function parseObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
