import type { NextFunction, Request, Response } from 'express';
import { apiError } from '@ticketflow/contract';
import type { Principal } from './principal.ts';

/** The metrics text and its content type, rendered per scrape. */
export type ScrapeMetrics = () => Promise<{ contentType: string; text: string }>;

/**
 * `GET /metrics` (API.md §1, §12), mounted by `serve` in every mode: the Prometheus text for an
 * `ops` bearer token. No token is a 401 and another role a 403, in the JSON error shape: queue
 * depths and traffic are operational detail, not for clients.
 */
export function createMetricsEndpoint(
  verifyToken: (authorization: string | undefined) => Principal,
  scrape: ScrapeMetrics,
) {
  return function metricsEndpoint(req: Request, res: Response, next: NextFunction): void {
    // Mounted with app.use: only the mount path itself, and only reads, are the endpoint.
    if (req.path !== '/' || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    let principal: Principal;
    try {
      principal = verifyToken(req.headers.authorization);
    } catch (error) {
      return next(error);
    }
    if (principal.role !== 'ops') return next(apiError('forbidden', '/metrics needs an ops token'));
    scrape()
      .then(({ contentType, text }) => {
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      })
      .catch(next);
  };
}
