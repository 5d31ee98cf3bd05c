import type { NextFunction, Request, Response } from 'express';

const ALLOWED_HEADERS =
  'Authorization, Content-Type, X-Requested-With, Idempotency-Key, Prefer, Cache-Control';
const EXPOSED_HEADERS =
  'Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Idempotent-Replayed, Preference-Applied';

/**
 * CORS for the browser samples (jQuery FormData with `crossDomain: true`). Only origins on the
 * allow-list get CORS headers; for any other origin the browser blocks the response itself.
 */
export function createCors(origins: readonly string[]) {
  const allowed = new Set(origins);
  return function cors(req: Request, res: Response, next: NextFunction): void {
    const origin = req.headers.origin;
    const isAllowed = origin !== undefined && allowed.has(origin);
    if (isAllowed) {
      res.vary('Origin');
      res.set('Access-Control-Allow-Origin', origin);
      res.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      if (isAllowed) {
        res.set('Access-Control-Allow-Methods', 'GET, POST');
        res.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
        res.set('Access-Control-Max-Age', '600');
      }
      res.status(204).end();
      return;
    }
    next();
  };
}
