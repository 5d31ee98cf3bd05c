import { Marked, Renderer, type Token, type Tokens } from 'marked';
import sanitizeHtml from 'sanitize-html';

const REL = 'noopener noreferrer nofollow';

// A private instance: global marked options set elsewhere in the process cannot change ours.
const marked = new Marked(
  { async: false, gfm: true, breaks: true },
  {
    renderer: {
      // Links leave the helpdesk: never give the target page a handle on ours. marked escapes
      // href and title, so the first '>' of its output closes the opening tag.
      link(token) {
        const html = (Renderer.prototype.link as (t: Tokens.Link) => string).call(this, token);
        return html.startsWith('<a ') ? html.replace('>', ` rel="${REL}">`) : html;
      },
      // Task-list boxes are form controls: dropped as the allow-list drops them (the space
      // marked writes after the box stays).
      checkbox: () => ' ',
      // Every line break (breaks: true) written as the sanitiser writes it, whichever path ran.
      br: () => '<br />',
    },
  },
);

/**
 * The allow-list. marked copies raw HTML and URLs as written, so this is what stops `<script>`,
 * event handlers and `javascript:`/`data:` URLs (ARCHITECTURE.md).
 */
export const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    'p',
    'br',
    'hr',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'blockquote',
    'pre',
    'code',
    'ul',
    'ol',
    'li',
    'strong',
    'em',
    'del',
    's',
    'a',
    'img',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel'],
    img: ['src', 'alt', 'title'],
    code: ['class'],
    th: ['align'],
    td: ['align'],
    ol: ['start'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href', 'src'],
  allowProtocolRelative: false,
  transformTags: {
    // Links leave the helpdesk: never give the target page a handle on ours.
    a: sanitizeHtml.simpleTransform('a', { rel: REL }),
  },
};

/**
 * Markdown to safe HTML. marked escapes all text and writes only allow-listed tags and
 * attributes itself; what it copies unchecked is raw HTML and link or image URLs. So the
 * sanitiser (most of the worker's rendering cost) runs when the markdown has raw HTML or a URL
 * that is not plainly http(s) or mailto; otherwise marked's output is already what the
 * sanitiser would keep (the property test in render-markdown.test.ts holds it to that).
 */
export function renderMarkdown(markdown: string): string {
  const tokens = marked.lexer(markdown);
  const html = marked.parser(tokens);
  return needsSanitizer(tokens) ? sanitizeHtml(html, SANITIZE) : html;
}

/** A scheme the allow-list keeps, spelled so that no decoding can change it. */
const PLAIN_URL = /^(?:https?:\/\/|mailto:)/i;

function needsSanitizer(tokens: Token[]): boolean {
  let needs = false;
  // The callback is synchronous: walkTokens' array of its results holds no promises.
  void marked.walkTokens(tokens, (token) => {
    if (token.type === 'html') needs = true;
    else if (token.type === 'link' || token.type === 'image') {
      if (!PLAIN_URL.test((token as Tokens.Link | Tokens.Image).href)) needs = true;
    }
  });
  return needs;
}

/** Plain text to HTML: escaped, line breaks kept. */
export function renderPlain(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/\r\n|\r|\n/g, '<br>\n');
}
