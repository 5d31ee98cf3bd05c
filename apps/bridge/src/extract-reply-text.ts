import EmailReplyParser from 'email-reply-parser';
import { convert } from 'html-to-text';
import type { InboundMessage } from './read-message.ts';

/** The text of a message: what the reply says, and everything it said. */
export interface ReplyText {
  /** The new text: quoted history and the signature removed. */
  reply: string;
  /** The whole text part (or the HTML part as text), kept beside the reply. */
  original: string;
}

/**
 * email-reply-parser's "On … wrote:" patterns backtrack quadratically in a line's length: one
 * 100,000-character line took 7 s of CPU, 1,000-character lines at most 1 ms each. Longer
 * lines are set aside while it runs (no quote header is that long) and put back after.
 */
const MAX_PARSED_LINE = 1000;

/**
 * The reply's text. HTML-only mail is converted to text first (images dropped, links kept as
 * text). Quoted history ("On … wrote:", `>` lines, Outlook's "-----Original Message-----") and
 * the signature (after `-- `) are removed by email-reply-parser, which reads at most
 * `parseChars` characters: the new text is at the top, and what lies beyond is quoted history.
 * When that leaves nothing (everything was quoted, or the answer was written between the
 * quotes) the whole text is the reply: dropping what someone wrote is worse than keeping a
 * quote. Pure.
 */
export function extractReplyText(
  message: Pick<InboundMessage, 'text' | 'html'>,
  parseChars: number,
): ReplyText {
  const source = message.text?.trim() ? message.text : message.html ? htmlText(message.html) : '';
  const original = clean(source);
  const reply = clean(parseReply(original.slice(0, parseChars)));
  return { reply: reply === '' ? original : reply, original };
}

function parseReply(text: string): string {
  const setAside: string[] = [];
  // U+E000 is a private-use character: no mail means anything by it.
  const shortLines = text.replace(new RegExp(`^[^\\n]{${MAX_PARSED_LINE + 1},}$`, 'gm'), (line) => {
    setAside.push(line);
    return `\uE000${setAside.length - 1}\uE000`;
  });
  return new EmailReplyParser()
    .parseReply(shortLines)
    .replace(/\uE000(\d+)\uE000/g, (_, i: string) => setAside[Number(i)] ?? '');
}

function htmlText(html: string): string {
  return convert(html, {
    wordwrap: false,
    // html-to-text cuts input past 16 MiB (and says so on stderr), which would lose the text
    // after a large inline image; the bridge's message size limit already bounds the input.
    limits: { maxInputLength: 0 },
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ],
  });
}

/**
 * Line ends as `\n`, no surrounding blank lines. U+0000 cannot be stored in PostgreSQL text
 * (the contract refuses it) and means nothing in mail.
 */
function clean(text: string): string {
  return text.replace(/\r\n?/g, '\n').replaceAll('\u0000', '').trim();
}
