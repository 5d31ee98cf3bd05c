import type { Request } from 'express';
import type multer from 'multer';
import {
  apiError,
  attachmentLabel,
  attachmentsTooLargeInTotal,
  attachmentTooLarge,
  checkAttachmentName,
  storableName,
  type AttachmentLimits,
} from '@ticketflow/contract';
import type { BlobStore, StoredBlob } from '@ticketflow/db';

/** A file part already in the blob store: what the reply job will reference. */
export interface StagedUpload extends StoredBlob {
  /** The name as sent, control characters removed. */
  originalName: string;
}

/** File parts may arrive as `attachments`, `attachments[]` or `attachments[N]` (PHP, FormData). */
const FILE_FIELD = /^attachments(\[\d*\])?$/;

/**
 * A multer storage engine that streams each file part straight into the blob store, hashing
 * and sniffing it on the way, so no upload is ever held whole in memory. Names are checked
 * before a byte is stored; the per-file and total limits are enforced mid-stream.
 */
export function createUploadStager(
  blobs: BlobStore,
  limits: AttachmentLimits,
): multer.StorageEngine {
  const received = new WeakMap<Request, { count: number; bytes: number }>();
  return {
    _handleFile(req, file, callback) {
      const fail = (error: unknown) => {
        file.stream.resume();
        callback(error);
      };
      if (!FILE_FIELD.test(file.fieldname)) {
        return fail(
          apiError(
            'invalid_parameter',
            file.fieldname,
            'send files as attachments, attachments[] or attachments[N]',
          ),
        );
      }
      const state = received.get(req) ?? { count: 0, bytes: 0 };
      received.set(req, state);
      const position = ++state.count;
      let originalName: string;
      try {
        originalName = storableName(file.originalname);
        checkAttachmentName(position, originalName, limits.extensions);
      } catch (error) {
        return fail(error);
      }
      const label = attachmentLabel(position, originalName);
      const leftInTotal = limits.totalBytes - state.bytes;
      const max = Math.min(limits.bytes, leftInTotal);
      const tooLarge = () =>
        max === limits.bytes
          ? attachmentTooLarge(label, limits)
          : attachmentsTooLargeInTotal(limits);
      // A plain for-await over the stream destroys it when the blob store stops early (too
      // large), and multer turns that AbortError into the request's error (a 500). Keep the
      // stream alive so `fail` can drain it and our 413 is the error multer reports.
      blobs.write(file.stream.iterator({ destroyOnReturn: false }), max, tooLarge).then((blob) => {
        state.bytes += blob.size;
        const staged: StagedUpload = { ...blob, originalName };
        callback(null, staged);
      }, fail);
    },
    _removeFile(_req, _file, callback) {
      // Staged blobs are never deleted in place: identical bytes may already serve another
      // reply. Unreferenced ones are swept after the grace period.
      callback(null);
    },
  };
}
