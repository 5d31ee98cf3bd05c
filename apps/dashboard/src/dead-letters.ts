import type { NextFunction, Request, Response } from 'express';
import { apiError, describeDeadReason } from '@ticketflow/contract';
import {
  findDeadLetterById,
  listDeadLetters,
  type Db,
  type StoredDeadLetter,
} from '@ticketflow/db';
import { sessionOf } from './access-guard.ts';
import { ADMIN_PATH } from './cookies.ts';
import { ACTION_SCRIPT, pageHeader } from './page-chrome.ts';
import { escapeHtml } from './render-page.ts';
import { sendPage } from './send-page.ts';

/** Puts one dead letter's job back to work and marks the row; answers how (`retried`, `added`). */
type ReplayLetter = (letter: StoredDeadLetter) => Promise<string>;

/** The newest rows shown; `ticketflow dlq list` pages through the rest. */
const PAGE_ROWS = 200;

/**
 * The dead letters page: every final failure with its public reason, newest first, and a Replay
 * button for `ops:write` sessions. Payloads are not shown here (`ticketflow dlq show` has them,
 * redacted): the row says which job failed and why, bull-board shows the job.
 */
export function createShowDeadLetters(db: Db) {
  return async function showDeadLetters(_req: Request, res: Response): Promise<void> {
    const session = sessionOf(res);
    const letters = await listDeadLetters(db, { limit: PAGE_ROWS });
    const rows = letters.map((letter) => deadLetterRow(letter, session.canWrite)).join('\n');
    sendPage(res, 200, {
      title: 'Dead letters · Ticketflow',
      body: `${pageHeader(session)}
<main>
<h1>Dead letters</h1>
<p>Jobs that failed for good, newest first (at most ${PAGE_ROWS}).${
        session.canWrite
          ? ' Replay puts a job back on its queue; a reply is still stored at most once.'
          : ' This session is read-only: replaying needs a token with <code>ops:write</code>.'
      }</p>
<p class="status" role="status" id="status"></p>
<table>
<thead><tr><th>id</th><th>queue</th><th>job id</th><th>reason</th><th>attempts</th><th>failed at</th><th>replayed at</th><th></th></tr></thead>
<tbody>
${rows || '<tr><td colspan="8">No dead letters.</td></tr>'}
</tbody>
</table>
</main>`,
      script: ACTION_SCRIPT,
    });
  };
}

/**
 * `POST /admin/dead-letters/:id/replay` (`ops:write` sessions and bearer tokens only; the guard
 * has checked). Answers `{"result":"success","message":…,"outcome":…,"replayedAt":…}`.
 */
export function createReplayDeadLetterRoute(db: Db, replay: ReplayLetter) {
  return async function replayDeadLetterRoute(
    req: Request,
    res: Response,
    next: NextFunction,
  ): Promise<void> {
    const idText = String(req.params.id);
    const id = /^[1-9][0-9]{0,9}$/.test(idText) ? Number(idText) : NaN;
    const letter = Number.isSafeInteger(id) ? await findDeadLetterById(db, id) : undefined;
    if (!letter) return next(apiError('dead_letter_not_found', idText));
    if (letter.replayedAt) {
      return next(apiError('dead_letter_replayed', idText, letter.replayedAt.toISOString()));
    }
    const outcome = await replay(letter);
    const replayed = await findDeadLetterById(db, id);
    res.status(200).json({
      result: 'success',
      message: `Dead letter ${id} replayed (${outcome}): job ${letter.jobId} is back on ${letter.queue}`,
      outcome,
      replayedAt: replayed?.replayedAt?.toISOString() ?? null,
    });
  };
}

function deadLetterRow(letter: StoredDeadLetter, canWrite: boolean): string {
  const replay =
    canWrite && !letter.replayedAt
      ? `<button type="button" data-post="${ADMIN_PATH}/dead-letters/${letter.id}/replay">Replay</button>`
      : '';
  return `<tr id="dead-letter-${letter.id}">
<td>${letter.id}</td>
<td>${escapeHtml(letter.queue)}</td>
<td><a href="${ADMIN_PATH}/queues/queue/${escapeHtml(encodeURIComponent(letter.queue))}/${escapeHtml(encodeURIComponent(letter.jobId))}">${escapeHtml(letter.jobId)}</a></td>
<td class="reason"><code>${escapeHtml(letter.reason)}</code><small>${escapeHtml(describeDeadReason(letter.reason))}</small></td>
<td>${letter.attempts}</td>
<td>${isoTime(letter.failedAt)}</td>
<td class="replayed">${letter.replayedAt ? isoTime(letter.replayedAt) : ''}</td>
<td>${replay}</td>
</tr>`;
}

function isoTime(at: Date): string {
  const iso = at.toISOString();
  return `<time datetime="${iso}">${iso}</time>`;
}
