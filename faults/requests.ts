/** Every encoding a client sends a reply in (README "Bodies"). */
const ENCODINGS = ['urlencoded', 'multipart', 'multipart-file', 'json'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** One logical request of the load: what it sends and what the API must answer. */
export interface PlannedRequest {
  /** Unique per run and request; the message starts with it, so stored rows are counted by it. */
  marker: string;
  idempotencyKey: string;
  encoding: Encoding;
  ticketId: number;
  /** False for the few requests built to be refused (400): nothing may be stored for them. */
  valid: boolean;
}

/** One in this many requests is invalid on purpose. */
const INVALID_EVERY = 13;

/**
 * The nth request of a phase: encodings in turn, each ticket taking one of every encoding before
 * the next ticket's turn, and now and then (13 is prime to 4) one the API must refuse.
 */
export function planRequest(
  run: string,
  phase: number,
  n: number,
  ticketIds: readonly number[],
): PlannedRequest {
  const marker = `${phaseMarkerPrefix(run, phase)}${String(n).padStart(5, '0')}`;
  return {
    marker,
    idempotencyKey: marker,
    encoding: ENCODINGS[n % ENCODINGS.length]!,
    ticketId: ticketIds[Math.floor(n / ENCODINGS.length) % ticketIds.length]!,
    valid: n % INVALID_EVERY !== INVALID_EVERY - 1,
  };
}

/** What every message of a phase starts with, and what its stored rows are found by. */
export function phaseMarkerPrefix(run: string, phase: number): string {
  return `faults:${run}:p${phase}:`;
}

/** The marker a stored message starts with. */
export function markerOf(message: string): string {
  return message.slice(0, message.indexOf(' '));
}

/**
 * Headers and body of one attempt, built afresh for every retry (a body stream is spent once).
 * Invalid requests carry a mistake each encoding can express: an attachment with a refused
 * extension in multipart (after its bytes streamed in and were staged), a boolean that is not
 * one otherwise.
 */
export function requestInit(request: PlannedRequest, token: string): RequestInit {
  const message = `${request.marker} reply under fault, **${request.encoding}**`;
  const markdown = request.valid ? '1' : 'maybe';
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    'idempotency-key': request.idempotencyKey,
  };
  const ticketid = String(request.ticketId);
  switch (request.encoding) {
    case 'urlencoded':
      headers['content-type'] = 'application/x-www-form-urlencoded';
      return {
        method: 'POST',
        headers,
        body: new URLSearchParams({ ticketid, message, markdown }),
      };
    case 'json':
      headers['content-type'] = 'application/json';
      return {
        method: 'POST',
        headers,
        body: JSON.stringify({
          ticketid: request.ticketId,
          message,
          markdown: request.valid ? true : markdown,
        }),
      };
    case 'multipart': {
      const form = new FormData();
      form.append('ticketid', ticketid);
      form.append('message', message);
      form.append('useMarkdown', markdown);
      return { method: 'POST', headers, body: form };
    }
    case 'multipart-file': {
      const form = new FormData();
      form.append('ticketid', ticketid);
      form.append('message', message);
      form.append('useMarkdown', '1');
      // Bytes of its own per request, so every file is a new blob to stage.
      const file = new Blob([`log of ${request.marker}\n`], { type: 'text/plain' });
      form.append('attachments[]', file, request.valid ? 'log.txt' : 'log.exe');
      return { method: 'POST', headers, body: form };
    }
  }
}
