import { describe, expect, it } from 'vitest';
import { ApiError, type AttachmentLimits } from '@ticketflow/contract';
import { checkMailAttachments } from './check-mail-attachments.ts';

const limits: AttachmentLimits = {
  count: 3,
  bytes: 100,
  totalBytes: 150,
  extensions: ['.png', '.txt', '.pdf'],
};
const part = (filename: string | null, size = 10, mimeType = 'application/octet-stream') => ({
  filename,
  mimeType,
  bytes: new Uint8Array(size),
});

/** The message of the ApiError `run` throws. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return (error as ApiError).message;
  }
  throw new Error('expected a refusal');
}

describe('checkMailAttachments', () => {
  it('keeps allowed files with their names, and names an unnamed inline image by its type', () => {
    expect(
      checkMailAttachments([part('a.txt'), part(null, 5, 'image/png')], limits).map((p) => p.name),
    ).toEqual(['a.txt', 'part-2.png']);
  });

  it('refuses what the HTTP path refuses, with its messages', () => {
    expect(refusal(() => checkMailAttachments([part('run.php')], limits))).toBe(
      'Attachment 1 ("run.php"): extension .php is never allowed',
    );
    expect(refusal(() => checkMailAttachments([part('a.txt'), part('b.docx')], limits))).toMatch(
      /^Attachment 2 \("b.docx"\): extension .docx is not allowed/,
    );
    expect(refusal(() => checkMailAttachments([part(null, 5, 'application/zip')], limits))).toMatch(
      /^Attachment 1 \("part-1.bin"\): extension .bin is not allowed/,
    );
  });

  it('refuses a file over the limit, files over the total, and too many files', () => {
    expect(refusal(() => checkMailAttachments([part('big.pdf', 101)], limits))).toBe(
      'Attachment 1 ("big.pdf") exceeds the limit of 100 bytes',
    );
    expect(
      refusal(() => checkMailAttachments([part('a.pdf', 80), part('b.pdf', 80)], limits)),
    ).toMatch(/^Attachments in total exceeds the limit/);
    expect(
      refusal(() =>
        checkMailAttachments(
          [1, 2, 3, 4].map((n) => part(`${n}.txt`)),
          limits,
        ),
      ),
    ).toBe('Attachment count exceeds the limit of 3 attachments');
  });
});
