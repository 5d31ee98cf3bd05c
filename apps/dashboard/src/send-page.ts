import { randomBytes } from 'node:crypto';
import type { Response } from 'express';
import { renderPage, type Page } from './render-page.ts';

/** Writes one of our HTML pages with its own nonce-based Content-Security-Policy. */
export function sendPage(res: Response, status: number, page: Page): void {
  const { html, csp } = renderPage(page, randomBytes(16).toString('base64'));
  res.status(status);
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.send(html);
}
