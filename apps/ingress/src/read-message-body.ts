import type { Request, Response } from 'express';
import express from 'express';
import { apiError, formatBytes } from '@ticketflow/contract';

/**
 * Reads a `message/rfc822` body as raw bytes, up to `maxBytes`: a declared length over it is
 * refused before a byte is read, and a chunked body is cut off at the limit as it streams in
 * (body-parser's `entity.too.large`, a 413 in the error responder).
 */
export function createMessageBodyReader(maxBytes: number) {
  const readRaw = express.raw({ type: () => true, limit: maxBytes });
  return function readMessageBody(
    req: Request,
    res: Response,
    next: (error: unknown, message?: Buffer) => void,
  ): void {
    const media = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (media !== 'message/rfc822') {
      return next(apiError('unsupported_content_type', media, 'message/rfc822'));
    }
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
      return next(apiError('payload_too_large', 'Message', formatBytes(maxBytes)));
    }
    readRaw(req, res, (error: unknown) => {
      if (error) return next(error);
      next(undefined, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    });
  };
}
