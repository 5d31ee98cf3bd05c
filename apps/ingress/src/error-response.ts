import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError, apiError, apiErrorWithHeaders, formatBytes } from '@ticketflow/contract';
import { writeJson } from './write-json.ts';

/** The limits error messages quote. */
export interface ErrorLimits {
  bodyBytes: number;
  /** Largest attachment. */
  bytes: number;
  /** Most attachments. */
  count: number;
}

/** Marks a request on a route that answers the WHMCS way (`/includes/api.php`). */
export function markWhmcsRoute(res: Response): void {
  (res.locals as { whmcs?: boolean }).whmcs = true;
}

/**
 * The one place that writes `{"result":"error",…}`. On the WHMCS drop-in endpoint action-level
 * errors are HTTP 200 and authentication errors 403, as WHMCS clients expect (API.md §7).
 */
export function createErrorResponder(logger: Logger, limits: ErrorLimits) {
  return function respondWithError(
    error: unknown,
    req: Request,
    res: Response,
    _next: NextFunction,
  ): void {
    const api = toApiError(error, limits);
    if (api.status >= 500 && api.code === 'internal_error') {
      logger.error({ err: error, method: req.method, url: req.originalUrl }, 'request failed');
    }
    let status = api.status;
    if ((res.locals as { whmcs?: boolean }).whmcs)
      status = status === 401 || status === 403 ? 403 : 200;
    if (res.headersSent) return void res.end();
    writeJson(res, status, { result: 'error', message: api.message, code: api.code }, api.headers);
  };
}

function toApiError(error: unknown, limits: ErrorLimits): ApiError {
  if (error instanceof ApiError) return error;
  const e = error as {
    name?: string;
    code?: string;
    type?: string;
    limit?: number;
    field?: string;
  };
  // Express 5 marks a path parameter it cannot percent-decode (`/replies/%ED%A0%80`) as a 400.
  if (
    (error as { status?: number }).status === 400 &&
    /^Failed to decode param/.test(String((error as Error).message))
  ) {
    return apiError('invalid_parameter', 'path', 'it is not valid percent-encoded UTF-8');
  }
  if (e.name === 'MulterError') {
    switch (e.code) {
      case 'LIMIT_FILE_SIZE':
        return apiError(
          'payload_too_large',
          `Attachment "${e.field ?? ''}"`,
          formatBytes(limits.bytes),
        );
      case 'LIMIT_FILE_COUNT':
        return apiError('payload_too_large', 'Attachment count', `${limits.count} attachments`);
      case 'LIMIT_FIELD_VALUE':
        return apiError('payload_too_large', 'Request body', formatBytes(limits.bodyBytes));
      case 'LIMIT_FIELD_COUNT':
      case 'LIMIT_PART_COUNT':
        return apiError('payload_too_large', 'Field count', 'the configured number of fields');
      default:
        return apiError('malformed_body', `multipart: ${(error as Error).message}`);
    }
  }
  // body-parser (express.text) errors carry a `type`.
  if (e.type === 'entity.too.large')
    return apiError('payload_too_large', 'Request body', formatBytes(e.limit ?? 0));
  if (e.type === 'request.aborted')
    return apiError('malformed_body', 'the client aborted the upload');
  if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
    return apiError('unsupported_content_type', (error as Error).message);
  }
  if (e.type?.startsWith('entity.') || e.type === 'stream.encoding.set') {
    return apiError('malformed_body', (error as Error).message);
  }
  if (
    /^Malformed part header|^Unexpected end of form|^Multipart: Boundary not found/i.test(
      (error as Error)?.message ?? '',
    )
  ) {
    return apiError('malformed_body', `multipart: ${(error as Error).message}`);
  }
  // Redis failures are turned into 503s where Redis is called; what reaches here is PostgreSQL.
  if (isOutage(error)) return serviceUnavailable('the database is unreachable');
  return apiError('internal_error');
}

/** Connection-level failures of PostgreSQL or Redis, as opposed to bad queries or input. */
export function isOutage(error: unknown): boolean {
  const e = error as { name?: string; code?: string; message?: string } | null;
  if (!e) return false;
  if (e.name === 'KnexTimeoutError') return true;
  if (
    e.code &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND'].includes(
      e.code,
    )
  )
    return true;
  // PostgreSQL SQLSTATE classes 08 (connection exception) and 57P (operator intervention).
  if (e.code && (/^08/.test(e.code) || /^57P/.test(e.code) || e.code === '53300')) return true;
  // 55000 with this text: the database refuses connections (ALLOW_CONNECTIONS false, maintenance).
  if (e.code === '55000' && /not currently accepting connections/.test(e.message ?? ''))
    return true;
  return /Connection terminated|connect ECONNREFUSED/.test(e.message ?? '');
}

/** 503 with Retry-After: nothing was accepted, the client should retry (API.md §7). */
export function serviceUnavailable(what: string): ApiError {
  return apiErrorWithHeaders({ 'Retry-After': '5' }, 'service_unavailable', what);
}
