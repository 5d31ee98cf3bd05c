import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@ticketflow/testing';
import { createPgBlobStore, type BlobStore } from './blob-store.ts';
import type { Db } from './connect.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The store's chunk size (blob-store.ts CHUNK_BYTES): the most an upload should hold. */
const CHUNK = 256 * KiB;
const NO_LIMIT = Number.MAX_SAFE_INTEGER;
const HOUR_MS = 3_600_000;

class TooLarge extends Error {
  override readonly name = 'TooLarge';
}
const tooLarge = () => new TooLarge('too large');

const database = useTestDatabase();
let db: Db;
let blobs: BlobStore;

beforeAll(() => {
  db = database.db;
  blobs = createPgBlobStore(db);
});
// Every test starts from empty attachment tables, so counts of chunks and blobs are its own.
beforeEach(async () => {
  await db.raw('TRUNCATE reply_attachments, attachment_blobs, attachment_chunks');
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Yields `bytes` in pieces of `size` (the last one shorter), as a slow socket would. */
async function* piecesOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) {
    await Promise.resolve();
    yield bytes.subarray(at, at + size);
  }
}

/** Deterministic bytes that are neither valid UTF-8 nor any format file-type knows. */
function noiseBytes(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let at = 0, n = 0; at < size; at += 32, n++) {
    createHash('sha256').update(`noise-${n}`).digest().copy(out, at);
  }
  return out;
}

async function chunksOf(uploadId: string): Promise<number[]> {
  const rows = await db('attachment_chunks')
    .where({ upload_id: uploadId })
    .orderBy('seq')
    .select<{ length: number }[]>(db.raw('octet_length(bytes) as length'));
  return rows.map((r) => Number(r.length));
}

async function blobRow(hash: string) {
  return db('attachment_blobs')
    .where({ sha256: hash })
    .first<
      { upload_id: string; size: string; content_type: string; created_at: Date } | undefined
    >();
}

async function chunkUploadIds(): Promise<string[]> {
  const rows = await db('attachment_chunks').distinct<{ upload_id: string }[]>('upload_id');
  return rows.map((r) => r.upload_id);
}

/** A ticket with one reply whose first attachment points at `hash`: a referenced blob. */
async function referenceBlob(hash: string): Promise<void> {
  const [department] = await db('departments')
    .insert({ name: `Support ${randomUUID()}`, email: 'support@example.test' })
    .returning<{ id: number }[]>('id');
  const [ticket] = await db('tickets')
    .insert({
      tid: randomUUID().slice(0, 15),
      department_id: department!.id,
      name: 'Guest',
      email: 'guest@example.test',
      subject: 'Screenshot attached',
    })
    .returning<{ id: number }[]>('id');
  const [reply] = await db('ticket_replies')
    .insert({
      reply_uid: randomUUID(),
      dedupe_key: randomUUID(),
      ticket_id: ticket!.id,
      message: 'see attached',
      message_html: '<p>see attached</p>',
      editor: 'plain',
      created_at: new Date(),
      source: 'api',
      source_principal: 'test',
      received_at: new Date(),
    })
    .returning<{ id: number }[]>('id');
  await db('reply_attachments').insert({
    reply_id: reply!.id,
    position: 1,
    stored_name: '123456_shot.png',
    original_name: 'shot.png',
    sha256: hash,
  });
}

/** Moves a blob (and its chunks) `ms` into the past, as if staged that long ago. */
async function age(hash: string, ms: number): Promise<void> {
  const then = new Date(Date.now() - ms);
  const row = await blobRow(hash);
  await db('attachment_blobs').where({ sha256: hash }).update({ created_at: then });
  await db('attachment_chunks').where({ upload_id: row!.upload_id }).update({ created_at: then });
}

/** Chunks a crashed upload left behind: no blob row names their upload id. */
async function abandonUpload(ageMs: number): Promise<string> {
  const uploadId = randomUUID();
  const then = new Date(Date.now() - ageMs);
  await db('attachment_chunks').insert([
    { upload_id: uploadId, seq: 0, bytes: randomBytes(CHUNK), created_at: then },
    { upload_id: uploadId, seq: 1, bytes: randomBytes(10), created_at: then },
  ]);
  return uploadId;
}

describe('writing and reading', () => {
  const sizes: Array<[string, number, number]> = [
    ['0 bytes', 0, 0],
    ['1 byte', 1, 1],
    ['256 KiB − 1', CHUNK - 1, 1],
    ['exactly 256 KiB', CHUNK, 1],
    ['256 KiB + 1', CHUNK + 1, 2],
    ['3 MiB', 3 * MiB, 12],
  ];

  it.each(sizes)(
    'stores %s from one Buffer with its sha256 and size, and reads the same bytes back',
    async (_label, size, chunkCount) => {
      const bytes = randomBytes(size);
      const stored = await blobs.write(bytes, NO_LIMIT, tooLarge);
      expect(stored).toMatchObject({ sha256: sha256(bytes), size });
      expect((await blobs.read(stored.sha256))?.equals(bytes)).toBe(true);
      const row = await blobRow(stored.sha256);
      expect(Number(row?.size)).toBe(size);
      expect(await chunksOf(row!.upload_id)).toHaveLength(chunkCount);
    },
  );

  it.each(sizes)(
    'stores %s from many small pieces with the same sha256 and size, and reads the same bytes back',
    async (_label, size) => {
      const bytes = randomBytes(size);
      // 7919 bytes (a prime): pieces never line up with the chunk size.
      const stored = await blobs.write(piecesOf(bytes, 7919), NO_LIMIT, tooLarge);
      expect(stored).toMatchObject({ sha256: sha256(bytes), size });
      expect((await blobs.read(stored.sha256))?.equals(bytes)).toBe(true);
    },
  );

  it('never stores a chunk larger than 256 KiB, whatever sizes the source yields', async () => {
    // What an upload holds in memory is one pending chunk; a chunk row bigger than CHUNK means
    // the write held (and then copied) more than that.
    const bytes = randomBytes(3 * MiB);
    async function* uneven(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 1);
      yield bytes.subarray(1, CHUNK + 1);
      yield* piecesOf(bytes.subarray(CHUNK + 1), 64 * KiB + 3);
    }
    const stored = await blobs.write(uneven(), NO_LIMIT, tooLarge);
    const row = await blobRow(stored.sha256);
    const lengths = await chunksOf(row!.upload_id);
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(bytes.length);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(CHUNK);
    expect((await blobs.read(stored.sha256))?.equals(bytes)).toBe(true);
  });

  it('refuses to read a blob whose chunks are missing instead of answering fewer bytes', async () => {
    const sha256 = 'b'.repeat(64);
    await db('attachment_blobs').insert({
      sha256,
      upload_id: randomUUID(),
      size: 10,
      content_type: 'text/plain',
    });
    await expect(blobs.read(sha256)).rejects.toThrow(`blob ${sha256} is incomplete: 0 of 10 bytes`);
  });

  it('answers undefined for a hash it never stored', async () => {
    expect(await blobs.read('0'.repeat(64))).toBeUndefined();
  });
});

describe('identical bytes', () => {
  it('are stored once when written twice, keeping only one upload’s chunks', async () => {
    const bytes = randomBytes(CHUNK + 100);
    const first = await blobs.write(bytes, NO_LIMIT, tooLarge);
    const second = await blobs.write(piecesOf(bytes, 1000), NO_LIMIT, tooLarge);
    expect(second).toEqual(first);
    expect(await db('attachment_blobs').count<{ count: string }[]>('* as count')).toEqual([
      { count: '1' },
    ]);
    expect(await chunkUploadIds()).toEqual([(await blobRow(first.sha256))!.upload_id]);
    expect((await blobs.read(first.sha256))?.equals(bytes)).toBe(true);
  });

  it('are stored once when five writes race, keeping only one upload’s chunks', async () => {
    const bytes = randomBytes(2 * CHUNK + 5);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        blobs.write(i % 2 ? bytes : piecesOf(bytes, 4096), NO_LIMIT, tooLarge),
      ),
    );
    expect(new Set(results.map((r) => r.sha256))).toEqual(new Set([sha256(bytes)]));
    expect(await db('attachment_blobs').count<{ count: string }[]>('* as count')).toEqual([
      { count: '1' },
    ]);
    expect(await chunkUploadIds()).toEqual([(await blobRow(sha256(bytes)))!.upload_id]);
    expect((await blobs.read(sha256(bytes)))?.equals(bytes)).toBe(true);
  });
});

describe('content types, sniffed from the bytes', () => {
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  );
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n');
  const jpeg = Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
    Buffer.from('JFIF\0'),
    Buffer.from([0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xd9]),
  ]);
  const cases: Array<[string, string, Buffer]> = [
    ['a PNG', 'image/png', png],
    ['a PDF', 'application/pdf', pdf],
    ['a JPEG', 'image/jpeg', jpeg],
    [
      'ASCII text',
      'text/plain',
      Buffer.from('The site answers 502 since this morning.\r\n\tThanks!\n'),
    ],
    [
      'UTF-8 text with multibyte characters',
      'text/plain',
      Buffer.from('Grüße aus Köln — ça marche pas 🙁\n日本語のテキスト\n'.repeat(200)),
    ],
    ['binary noise', 'application/octet-stream', noiseBytes(8 * KiB)],
    // Short enough that every byte is in the head the sniffer is careful about.
    ['two bytes of binary', 'application/octet-stream', Buffer.from([0x00, 0xff])],
    ['text ending in NUL bytes', 'application/octet-stream', Buffer.from('abc\0\0\0')],
  ];

  it.each(cases)('labels %s as %s', async (_label, contentType, bytes) => {
    expect(await blobs.write(bytes, NO_LIMIT, tooLarge)).toMatchObject({ contentType });
    expect((await blobRow(sha256(bytes)))?.content_type).toBe(contentType);
  });

  it('labels UTF-8 text as text/plain when a multibyte character straddles the sniffed head', async () => {
    // 4099 ASCII bytes then "é" (2 bytes): the 4100-byte head ends inside the character.
    const bytes = Buffer.from(`${'a'.repeat(4099)}é and more text`);
    expect(await blobs.write(piecesOf(bytes, 1000), NO_LIMIT, tooLarge)).toMatchObject({
      contentType: 'text/plain',
    });
  });
});

describe('limits and failing sources', () => {
  it('throws the given tooLarge error past maxBytes, mid-stream, with no chunks and no blob', async () => {
    const bytes = randomBytes(3 * CHUNK);
    const write = blobs.write(piecesOf(bytes, 16 * KiB), 2 * CHUNK + 1, tooLarge);
    await expect(write).rejects.toBeInstanceOf(TooLarge);
    expect(await chunkUploadIds()).toEqual([]);
    expect(await blobRow(sha256(bytes))).toBeUndefined();
  });

  it('accepts exactly maxBytes', async () => {
    const bytes = randomBytes(CHUNK);
    expect(await blobs.write(piecesOf(bytes, 10 * KiB), CHUNK, tooLarge)).toMatchObject({
      size: CHUNK,
    });
  });

  it('rethrows a source that fails mid-stream, with no chunks left', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* piecesOf(randomBytes(CHUNK * 2 + 7), 32 * KiB);
      throw new Error('connection reset by peer');
    }
    await expect(blobs.write(failing(), NO_LIMIT, tooLarge)).rejects.toThrow(
      'connection reset by peer',
    );
    expect(await chunkUploadIds()).toEqual([]);
    expect(await db('attachment_blobs').count<{ count: string }[]>('* as count')).toEqual([
      { count: '0' },
    ]);
  });
});

describe('sweep', () => {
  it('removes unreferenced blobs and abandoned uploads, never a blob a reply references', async () => {
    const loose = await blobs.write(randomBytes(CHUNK + 1), NO_LIMIT, tooLarge);
    const referenced = await blobs.write(randomBytes(1000), NO_LIMIT, tooLarge);
    await referenceBlob(referenced.sha256);
    const abandoned = await abandonUpload(0);

    expect(await blobs.sweep(0)).toEqual({ blobs: 1, uploads: 2 });

    expect(await blobRow(loose.sha256)).toBeUndefined();
    expect(await blobs.read(loose.sha256)).toBeUndefined();
    expect(await chunkUploadIds()).not.toContain(abandoned);
    expect(await blobs.read(referenced.sha256)).toHaveLength(1000);
    expect(await chunkUploadIds()).toEqual([(await blobRow(referenced.sha256))!.upload_id]);
  });

  it('keeps blobs and uploads younger than the grace period', async () => {
    const fresh = await blobs.write(randomBytes(5000), NO_LIMIT, tooLarge);
    const abandoned = await abandonUpload(0);

    expect(await blobs.sweep(HOUR_MS)).toEqual({ blobs: 0, uploads: 0 });

    expect(await blobs.read(fresh.sha256)).toHaveLength(5000);
    expect(await chunkUploadIds()).toContain(abandoned);
  });

  it('removes blobs and uploads older than the grace period', async () => {
    const old = await blobs.write(randomBytes(5000), NO_LIMIT, tooLarge);
    await age(old.sha256, 2 * HOUR_MS);
    const abandoned = await abandonUpload(2 * HOUR_MS);

    expect(await blobs.sweep(HOUR_MS)).toEqual({ blobs: 1, uploads: 2 });

    expect(await blobRow(old.sha256)).toBeUndefined();
    expect(await chunkUploadIds()).not.toContain(abandoned);
    expect(await chunkUploadIds()).toEqual([]);
  });

  it('leaves a blob touched within the last minute as it is when the same bytes come again (no write)', async () => {
    const bytes = randomBytes(1000);
    const first = await blobs.write(bytes, NO_LIMIT, tooLarge);
    const createdAt = (await blobRow(first.sha256))!.created_at.getTime();
    await Promise.all(Array.from({ length: 5 }, () => blobs.write(bytes, NO_LIMIT, tooLarge)));
    expect((await blobRow(first.sha256))!.created_at.getTime()).toBe(createdAt);
  });

  it('keeps an old blob that a new write deduped onto, since a queued reply now needs it', async () => {
    const bytes = randomBytes(CHUNK + 10);
    const old = await blobs.write(bytes, NO_LIMIT, tooLarge);
    await age(old.sha256, 2 * HOUR_MS);
    const before = Date.now();

    await blobs.write(bytes, NO_LIMIT, tooLarge);

    expect((await blobRow(old.sha256))!.created_at.getTime()).toBeGreaterThan(before - 60_000);
    expect(await blobs.sweep(HOUR_MS)).toEqual({ blobs: 0, uploads: 0 });
    expect((await blobs.read(old.sha256))?.equals(bytes)).toBe(true);
  });
});
