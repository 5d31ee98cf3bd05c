import { createHash, randomUUID } from 'node:crypto';
import { fileTypeFromBuffer } from 'file-type';
import type { Db } from './connect.ts';
import { queryPrepared, type PreparedStatement } from './prepared.ts';

/** A stored blob: content-addressed, so identical bytes are one blob. */
export interface StoredBlob {
  sha256: string;
  size: number;
  contentType: string;
}

/**
 * Where attachment bytes live. The pipeline sees only this; PostgreSQL is the default, and a
 * filesystem or S3-compatible store can implement the same three calls.
 */
export interface BlobStore {
  /**
   * Streams bytes in, hashing and sniffing as they pass, and never holds more than one chunk.
   * Past `maxBytes` it stops, removes what it wrote and throws `tooLarge()`.
   */
  write(
    source: AsyncIterable<Uint8Array> | Uint8Array,
    maxBytes: number,
    tooLarge: () => Error,
  ): Promise<StoredBlob>;
  /** The exact bytes, or undefined for an unknown hash. */
  read(sha256: string): Promise<Buffer | undefined>;
  /** Removes blobs no reply references and abandoned partial uploads older than `olderThanMs`. */
  sweep(olderThanMs: number): Promise<{ blobs: number; uploads: number }>;
}

/** Bytes per stored chunk: what an upload holds in memory at most. */
const CHUNK_BYTES = 256 * 1024;
/** What file-type needs to recognise every format it knows. */
const SNIFF_BYTES = 4100;

/**
 * Ends an upload in one statement (one commit): an existing blob with these bytes wins, else
 * the last chunk and the blob row are stored. The winner's `created_at` is what keeps the
 * sweeper (grace ≥ 1 h) off it while the reply now pointing at it is queued, so it is moved
 * forward, but at most once a minute: a logo or signature attached to every reply would
 * otherwise have every concurrent upload queue on that one row's lock and commit. A blob
 * touched within the minute is only read, so identical bytes then cost no write at all.
 */
const FINISH_UPLOAD: PreparedStatement = {
  name: 'ticketflow_finish_upload',
  text: `
WITH found AS (
  SELECT upload_id, content_type, created_at FROM attachment_blobs WHERE sha256 = $1
), touched AS (
  UPDATE attachment_blobs SET created_at = now()
  WHERE sha256 = $1 AND created_at < now() - interval '1 minute'
  RETURNING upload_id, content_type
), existing AS (
  SELECT upload_id, content_type FROM touched
  UNION ALL
  SELECT upload_id, content_type FROM found WHERE created_at >= now() - interval '1 minute'
), chunk AS (
  INSERT INTO attachment_chunks (upload_id, seq, bytes)
  SELECT $2::uuid, $3::int, $4::bytea
  WHERE $4::bytea IS NOT NULL AND NOT EXISTS (SELECT 1 FROM existing)
  RETURNING seq
), created AS (
  INSERT INTO attachment_blobs (sha256, upload_id, size, content_type)
  SELECT $1, $2::uuid, $5::bigint, $6 WHERE NOT EXISTS (SELECT 1 FROM existing)
  ON CONFLICT (sha256) DO UPDATE SET created_at = now()
  RETURNING upload_id, content_type
)
SELECT upload_id, content_type, EXISTS (SELECT 1 FROM chunk) AS wrote
FROM (SELECT * FROM existing UNION ALL SELECT * FROM created) AS blob`,
};

export function createPgBlobStore(db: Db): BlobStore {
  // Never the chunks of a blob row: an upload whose last statement committed but whose answer
  // was lost (a dropped connection) must keep its bytes.
  const deleteUpload = (uploadId: string) =>
    db('attachment_chunks')
      .where({ upload_id: uploadId })
      .whereNotExists(db('attachment_blobs').where({ upload_id: uploadId }))
      .delete();

  return {
    async write(source, maxBytes, tooLarge) {
      const uploadId = randomUUID();
      const hash = createHash('sha256');
      let size = 0;
      let seq = 0;
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      const head: Uint8Array[] = [];
      let headBytes = 0;
      const flush = async () => {
        const bytes = Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
        await db('attachment_chunks').insert({ upload_id: uploadId, seq: seq++, bytes });
      };
      try {
        for await (const part of source instanceof Uint8Array ? [source] : source) {
          size += part.length;
          if (size > maxBytes) throw tooLarge();
          hash.update(part);
          if (headBytes < SNIFF_BYTES) {
            head.push(part.subarray(0, SNIFF_BYTES - headBytes));
            headBytes += Math.min(part.length, SNIFF_BYTES - headBytes);
          }
          // Fill the pending chunk exactly to CHUNK_BYTES, so no chunk (and no copy) is larger.
          for (let at = 0; at < part.length;) {
            const slice = part.subarray(at, at + CHUNK_BYTES - pendingBytes);
            pending.push(slice);
            pendingBytes += slice.length;
            at += slice.length;
            // Full chunks go out as they fill; a last partial one goes with the blob row below.
            if (pendingBytes === CHUNK_BYTES) await flush();
          }
        }
        const sha256 = hash.digest('hex');
        const contentType = await sniffContentType(Buffer.concat(head), size > headBytes);
        const [row] = await queryPrepared<{
          upload_id: string;
          content_type: string;
          wrote: boolean;
        }>(db, FINISH_UPLOAD, [
          sha256,
          uploadId,
          seq,
          pendingBytes > 0 ? Buffer.concat(pending) : null,
          size,
          contentType,
        ]);
        // Another upload's blob serves these bytes: what this one stored is not needed.
        if (row!.upload_id !== uploadId && (seq > 0 || row!.wrote)) await deleteUpload(uploadId);
        return { sha256, size, contentType: row!.content_type };
      } catch (error) {
        await deleteUpload(uploadId).catch(() => undefined);
        throw error;
      }
    },

    async read(sha256) {
      const blob = await db('attachment_blobs')
        .where({ sha256 })
        .first<{ upload_id: string; size: string } | undefined>('upload_id', 'size');
      if (!blob) return undefined;
      const rows = await db('attachment_chunks')
        .where({ upload_id: blob.upload_id })
        .orderBy('seq')
        .select<{ bytes: Buffer }[]>('bytes');
      const bytes = Buffer.concat(rows.map((r) => r.bytes));
      // Never hand out a truncated file as if it were whole.
      if (bytes.length !== Number(blob.size)) {
        throw new Error(`blob ${sha256} is incomplete: ${bytes.length} of ${blob.size} bytes`);
      }
      return bytes;
    },

    async sweep(olderThanMs) {
      const cutoff = new Date(Date.now() - olderThanMs);
      return db.transaction(async (trx) => {
        const blobs = await trx('attachment_blobs as b')
          .where('b.created_at', '<', cutoff)
          .whereNotExists(trx('reply_attachments as r').whereRaw('r.sha256 = b.sha256'))
          .delete()
          .returning<{ upload_id: string }[]>('upload_id');
        const uploads = await trx('attachment_chunks as c')
          .where('c.created_at', '<', cutoff)
          .whereNotExists(trx('attachment_blobs as b').whereRaw('b.upload_id = c.upload_id'))
          .delete()
          .returning<{ upload_id: string }[]>('upload_id');
        return { blobs: blobs.length, uploads: new Set(uploads.map((u) => u.upload_id)).size };
      });
    },
  };
}

/** Magic numbers first (file-type); otherwise UTF-8 text without control bytes is text/plain. */
async function sniffContentType(head: Buffer, isTruncated: boolean): Promise<string> {
  const detected = await fileTypeFromBuffer(head);
  if (detected) return detected.mime;
  if (head.length === 0) return 'application/octet-stream';
  // A truncated head may end inside a multibyte character: `stream` holds back an incomplete
  // final sequence instead of decoding it as U+FFFD. Every other byte is checked.
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head, { stream: isTruncated });
  // eslint-disable-next-line no-control-regex -- control bytes are what marks a file as binary
  const isText = !text.includes('\uFFFD') && !/[\u0000-\u0008\u000E-\u001F\u007F]/.test(text);
  return isText ? 'text/plain' : 'application/octet-stream';
}
