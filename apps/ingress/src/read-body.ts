import type { Request, Response } from 'express';
import express from 'express';
import multer from 'multer';
import {
  apiError,
  formatBytes,
  toFormValue,
  type AttachmentLimits,
  type FormMap,
  type FormValue,
} from '@ticketflow/contract';
import type { BlobStore } from '@ticketflow/db';
import { MAX_FORM_FIELDS, parseForm } from './parse-form.ts';
import { createUploadStager, type StagedUpload } from './stage-uploads.ts';

export interface BodyLimits extends AttachmentLimits {
  bodyBytes: number;
}

/** The file parts multer staged, in the order they arrived. */
export function uploadsOf(req: Request): StagedUpload[] {
  return Array.isArray(req.files) ? (req.files as unknown as StagedUpload[]) : [];
}

/**
 * Reads a request's parameters from the query string and, for POST, from the body in every
 * encoding API.md §3 names: urlencoded, multipart (with a boundary), multipart without a
 * boundary whose body is really urlencoded (the Keliweb PHP samples), and JSON. Body fields
 * win over query fields of the same name.
 */
export function createBodyReader(limits: BodyLimits, blobs: BlobStore) {
  const readText = express.text({
    type: () => true,
    limit: limits.bodyBytes,
    defaultCharset: 'utf-8',
  });
  const readMultipart = multer({
    storage: createUploadStager(blobs, limits),
    // Browsers, curl and PHP send file names as raw UTF-8; busboy's default reads them as latin1.
    defParamCharset: 'utf8',
    limits: {
      // One byte over, so the stager's own 413 (naming the attachment) fires first.
      fileSize: limits.bytes + 1,
      files: limits.count,
      fields: MAX_FORM_FIELDS,
      fieldSize: limits.bodyBytes,
      parts: MAX_FORM_FIELDS + limits.count,
    },
  }).any();

  /** Calls `next` with the request's fields, whatever the encoding, or with the error. */
  return function readBody(
    req: Request,
    res: Response,
    next: (error: unknown, fields?: FormMap) => void,
  ): void {
    const query = parseForm(rawQuery(req.originalUrl));
    const store = (body: FormMap) => next(undefined, merge(query, body));
    if (req.method !== 'POST') return store(new Map());
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limits.bodyBytes) return next(tooLarge(limits.bodyBytes));
    const contentType = req.headers['content-type'] ?? '';
    const media = contentType.split(';')[0]!.trim().toLowerCase();
    if (media === '' && declared === 0 && req.headers['transfer-encoding'] === undefined)
      return store(new Map());
    if (media === 'multipart/form-data' && /;\s*boundary=/i.test(contentType)) {
      // multer bounds each part, not the whole body; a chunked upload has no Content-Length to
      // check up front, so the body is counted as it streams and cut off at the limit.
      let received = 0;
      let overLimit = false;
      const count = (chunk: Buffer) => {
        received += chunk.length;
        if (received <= limits.bodyBytes || overLimit) return;
        overLimit = true;
        req.off('data', count);
        req.unpipe();
        req.pause();
        next(tooLarge(limits.bodyBytes));
      };
      readMultipart(req, res, (error: unknown) => {
        req.off('data', count);
        if (overLimit) return;
        if (error) return next(error);
        try {
          store(toFormValue(req.body ?? Object.create(null)) as FormMap);
        } catch (e) {
          next(e);
        }
      });
      req.on('data', count);
      return;
    }
    const parse = textParserFor(media);
    if (!parse) return next(apiError('unsupported_content_type', media || contentType));
    readText(req, res, (error: unknown) => {
      if (error) return next(error);
      try {
        store(parse(typeof req.body === 'string' ? req.body : ''));
      } catch (e) {
        next(e);
      }
    });
  };
}

function textParserFor(media: string): ((text: string) => FormMap) | undefined {
  if (media === 'application/x-www-form-urlencoded') return parseForm;
  // Keliweb's PHP samples send http_build_query output under a multipart header with no boundary.
  if (media === 'multipart/form-data') return parseForm;
  if (media === 'application/json' || /^application\/[\w.+-]+\+json$/.test(media))
    return parseJsonObject;
  return undefined;
}

function parseJsonObject(text: string): FormMap {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw apiError('malformed_body', `invalid JSON (${(error as Error).message})`);
  }
  const fields = toFormValue(value);
  if (!(fields instanceof Map)) throw apiError('malformed_body', 'the JSON body must be an object');
  return fields;
}

function merge(query: FormMap, body: FormMap): FormMap {
  if (query.size === 0) return body;
  const out = new Map<string, FormValue>(query);
  for (const [k, v] of body) out.set(k, v);
  return out;
}

function rawQuery(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}

function tooLarge(limit: number) {
  return apiError('payload_too_large', 'Request body', formatBytes(limit));
}
