import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { requestIdOf } from './request-id.ts';

/**
 * One line per request once it is answered: method, path, status and milliseconds. Headers
 * never reach the log (they carry bearer tokens). Written directly on the process logger: a
 * child logger per request (pino-http) cost about a tenth of the ingress's CPU.
 */
export function createAccessLog(logger: Logger) {
  return function accessLog(req: Request, res: Response, next: NextFunction): void {
    const started = performance.now();
    res.once('finish', () => {
      const line = {
        requestId: requestIdOf(res),
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
      };
      if (res.statusCode >= 500) logger.warn(line, 'request failed');
      else logger.info(line, 'request');
    });
    next();
  };
}
