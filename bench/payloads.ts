import { randomBytes } from 'node:crypto';
import { request } from 'node:http';

const KiB = 1024;

/** A typical support reply: a few paragraphs of Markdown with a list, a link and a non-ASCII letter. */
export const MESSAGE = [
  'Hello Marta,',
  '',
  'thanks for the details. We restarted the **PHP-FPM pool** on your server and the site',
  'answers again. What happened:',
  '',
  '- the pool hit `pm.max_children` during the nightly backup;',
  '- requests queued up until nginx gave up with a 502.',
  '',
  'We raised the limit and moved the backup to 03:00. More in the [status page](https://status.example.com).',
  'Let us know if you see it again — we keep the ticket open for a week.',
].join('\n');

/**
 * MESSAGE as the reply worker stores it rendered (apps/worker's renderMarkdown), for the rows
 * and webhook bodies the bench writes itself.
 */
export const MESSAGE_HTML =
  '<p>Hello Marta,</p>\n<p>thanks for the details. We restarted the <strong>PHP-FPM pool</strong> on your server and the site<br />answers again. What happened:</p>\n<ul>\n<li>the pool hit <code>pm.max_children</code> during the nightly backup;</li>\n<li>requests queued up until nginx gave up with a 502.</li>\n</ul>\n<p>We raised the limit and moved the backup to 03:00. More in the <a href="https://status.example.com" rel="noopener noreferrer nofollow">status page</a>.<br />Let us know if you see it again — we keep the ticket open for a week.</p>\n';

/** The reply endpoint every ingress scenario posts to (the baselines route the same path). */
export const REPLY_PATH = '/api/v2/add-ticket-reply';

export interface Payload {
  contentType: string;
  body: Buffer;
  /** Where the load generator writes a per-request counter, so no two bodies are alike. */
  uniqueAt?: number;
}

/**
 * What PHP's http_build_query sends (spaces as `+`, as URLSearchParams writes them). With
 * `noemail`, the field is sent as `1` or `0`, so both settings have the same length.
 */
export function urlencodedPayload(ticketId: number, options: { noemail?: boolean } = {}): Payload {
  const body = new URLSearchParams({
    ticketid: String(ticketId),
    message: MESSAGE,
    markdown: '1',
    customfields: '',
    attachments: '[]',
    ...(options.noemail === undefined ? {} : { noemail: options.noemail ? '1' : '0' }),
  }).toString();
  return { contentType: 'application/x-www-form-urlencoded', body: Buffer.from(body) };
}

export function jsonPayload(ticketId: number): Payload {
  const body = JSON.stringify({
    ticketid: ticketId,
    message: MESSAGE,
    markdown: true,
    customfields: '',
    attachments: [],
  });
  return { contentType: 'application/json', body: Buffer.from(body) };
}

const BOUNDARY = '----TicketflowBench7MA4YWxkTrZu0gW';

function textPart(name: string, value: string): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
}

function fileHead(name: string, fileName: string, type: string): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${fileName}"\r\nContent-Type: ${type}\r\n\r\n`;
}

/** Bytes of a PDF as far as sniffing goes (`%PDF` magic), the rest incompressible like real PDFs. */
export function pdfBytes(size: number): Buffer {
  const bytes = randomBytes(size);
  bytes.write('%PDF-1.7\n', 0, 'latin1');
  return bytes;
}

/**
 * What PHP curl or browser FormData sends: the same fields as the urlencoded body, and with
 * `fileBytes` one `attachments[]` file part (then no text `attachments`, as those clients do).
 */
export function multipartPayload(
  ticketId: number,
  fileBytes = 0,
  { uniqueFile = false } = {},
): Payload {
  const parts = [
    textPart('ticketid', String(ticketId)),
    textPart('message', MESSAGE),
    textPart('markdown', '1'),
    textPart('customfields', ''),
  ];
  const chunks: Buffer[] = [Buffer.from(parts.join(''))];
  let fileAt: number | undefined;
  if (fileBytes > 0) {
    chunks.push(Buffer.from(fileHead('attachments[]', 'invoice-2291.pdf', 'application/pdf')));
    fileAt = chunks.reduce((n, c) => n + c.length, 0);
    chunks.push(pdfBytes(fileBytes), Buffer.from('\r\n'));
  } else {
    chunks.push(Buffer.from(textPart('attachments', '[]')));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return {
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    body: Buffer.concat(chunks),
    // Past the `%PDF-1.7` magic, so every variant still sniffs as a PDF.
    ...(uniqueFile && fileAt !== undefined ? { uniqueAt: fileAt + 16 } : {}),
  };
}

/**
 * Posts a multipart reply whose file part is produced 64 KiB at a time, so the bench never
 * holds the upload either; each upload's bytes differ, so no blob is deduplicated.
 */
export function postLargeUpload(
  url: string,
  token: string,
  ticketId: number,
  fileBytes: number,
): Promise<{ status: number; body: string }> {
  const head = Buffer.from(
    [
      textPart('ticketid', String(ticketId)),
      textPart('message', MESSAGE),
      textPart('markdown', '1'),
      fileHead('attachments[]', 'scan.pdf', 'application/pdf'),
    ].join(''),
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          'content-length': head.length + fileBytes + tail.length,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const write = (chunk: Buffer) =>
      req.write(chunk) ? Promise.resolve() : new Promise<void>((r) => req.once('drain', r));
    void (async () => {
      await write(head);
      for (let sent = 0; sent < fileBytes; sent += 64 * KiB) {
        const size = Math.min(64 * KiB, fileBytes - sent);
        await write(sent === 0 ? pdfBytes(size) : randomBytes(size));
      }
      req.end(tail);
    })().catch(reject);
  });
}
