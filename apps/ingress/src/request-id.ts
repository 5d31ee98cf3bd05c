import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** What a caller may send as X-Request-Id: a proxy's id, printable ASCII, bounded. */
const GIVEN_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * One id per request, honoured from `X-Request-Id` (a load balancer's, a client's) or made
 * here, echoed in the answer and carried into the reply's job, its row and its notifications'
 * log lines, so one grep follows a reply end to end.
 */
export function assignRequestId(req: Request, res: Response, next: NextFunction): void {
  const given = req.get('x-request-id');
  const id = given !== undefined && GIVEN_ID.test(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
}

/** The id {@link assignRequestId} gave this request. */
export function requestIdOf(res: Response): string {
  return (res.locals as { requestId?: string }).requestId ?? '';
}
