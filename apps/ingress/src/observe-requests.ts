import type { NextFunction, Request, Response } from 'express';

/** Records one answered request: its route pattern, method, status and seconds taken. */
export type ObserveRequest = (
  route: string,
  method: string,
  status: number,
  seconds: number,
) => void;

/**
 * The label of a request no route or mount matched: a raw URL would give every scanner's probe
 * a series of its own, and Prometheus memory grows with each.
 */
const UNMATCHED = 'unmatched';

/**
 * Times every request to its answer and hands it to `observe` labelled by the route pattern
 * Express matched (`/api/v2/replies/:replyid`), else the mount path it fell under (`/metrics`),
 * else `unmatched`. One `finish` listener per request, like the access log.
 */
export function createRequestObserver(observe: ObserveRequest, mountPaths: readonly string[]) {
  return function observeRequest(req: Request, res: Response, next: NextFunction): void {
    const started = performance.now();
    res.once('finish', () =>
      observe(
        routeLabel(req, mountPaths),
        req.method,
        res.statusCode,
        (performance.now() - started) / 1000,
      ),
    );
    next();
  };
}

function routeLabel(req: Request, mountPaths: readonly string[]): string {
  // Set by the router once a route matched path and method; it stays set through error handling.
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern === 'string') return pattern;
  // originalUrl: a mount that answered itself leaves req.url trimmed to its own part.
  const path = req.originalUrl.split('?', 1)[0] ?? '';
  return mountPaths.find((m) => path === m || path.startsWith(`${m}/`)) ?? UNMATCHED;
}
