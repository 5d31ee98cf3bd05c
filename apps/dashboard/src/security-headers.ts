import type { NextFunction, Request, Response } from 'express';

/**
 * Headers on every dashboard response: no MIME sniffing, no Referer (a job id or queue name in
 * the URL stays here), no framing (clickjacking a Retry button), nothing cached (job views hold
 * customer data). Our own pages tighten the CSP further; bull-board's page needs its bundle's
 * inline styles, so its policy only forbids framing, plugins and foreign form targets.
 */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader(
    'Content-Security-Policy',
    "frame-ancestors 'none'; base-uri 'self'; object-src 'none'; form-action 'self'",
  );
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
  next();
}
