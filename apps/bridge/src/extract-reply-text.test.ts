import { describe, expect, it } from 'vitest';
import { extractReplyText } from './extract-reply-text.ts';

const WINDOW = 512 * 1024;
const text = (t: string) => extractReplyText({ text: t, html: undefined }, WINDOW);

describe('extractReplyText', () => {
  it('removes the quoted history and the signature, and keeps the whole text as the original', () => {
    const original = [
      'Works now, thanks!',
      '',
      '-- ',
      'Ada',
      '',
      'On Thu, Dec 3, 2026 at 10:00 AM Help Desk <help@desk.example> wrote:',
      '> Please restart it.',
    ].join('\r\n');
    expect(text(original)).toEqual({
      reply: 'Works now, thanks!',
      original: original.replace(/\r\n/g, '\n'),
    });
  });

  it("removes Outlook's original-message block", () => {
    expect(
      text('Done.\n\n-----Original Message-----\nFrom: Help Desk\nSent: Friday\n\nold text').reply,
    ).toBe('Done.');
  });

  it('keeps everything when everything was quoted: dropping what someone sent is worse', () => {
    expect(text('> only a quote\n> here').reply).toBe('> only a quote\n> here');
  });

  it('keeps the text after an inline image larger than html-to-text reads by default (16 MiB)', () => {
    const image = `<img src="data:image/png;base64,${'A'.repeat(17 * 1024 * 1024)}">`;
    expect(
      extractReplyText({ text: undefined, html: `<p>Before.</p>${image}<p>After.</p>` }, WINDOW)
        .reply,
    ).toBe('Before.\n\nAfter.');
  });

  it('converts an HTML-only message to text before reading it', () => {
    expect(
      extractReplyText(
        {
          text: undefined,
          html: '<p>Hello <b>there</b><img src="cid:x"></p><blockquote>old</blockquote>',
        },
        WINDOW,
      ),
    ).toEqual({ reply: 'Hello there', original: 'Hello there\n\n> old' });
  });

  it('reads a 100,000-character line in milliseconds (the parser backtracks on long lines)', () => {
    const long = `On ${'x '.repeat(50_000)}`;
    const started = Date.now();
    expect(text(`Hi\n${long}\nbye`).reply).toBe(`Hi\n${long}\nbye`);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('removes U+0000, which PostgreSQL text cannot hold', () => {
    expect(text('a\u0000b').reply).toBe('ab');
  });
});
