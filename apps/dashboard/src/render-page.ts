/** Text made safe for HTML element content and quoted attribute values. */
export function escapeHtml(value: string | number): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A page of ours: its body is HTML the caller built with {@link escapeHtml}. */
export interface Page {
  title: string;
  body: string;
  /** A script run after the body, allowed by the page's CSP nonce. */
  script?: string;
}

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{display:flex;gap:1.5rem;align-items:center;padding:.75rem 1.5rem;background:#151a21;color:#e6e9ee}
header a{color:#9cc3ff}header .who{margin-left:auto;font-size:.85rem;color:#b7bfcc}
main{padding:1.5rem;max-width:72rem}
.card{max-width:34rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;font-family:monospace}
button{font:inherit;padding:.4rem .9rem;border-radius:4px;border:1px solid #2f6fd6;background:#2f6fd6;color:#fff;cursor:pointer}
button:disabled{opacity:.5;cursor:default}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e3e6eb;vertical-align:top}
th{background:#eef0f4;font-size:.85rem}
.reason small{display:block;color:#5b6475}
.error{color:#b3261e;font-weight:600}
.status{min-height:1.5em}
code{font-size:.9em}
`;

/**
 * A whole HTML document and the Content-Security-Policy that goes with it: nothing loads or runs
 * but the page itself and the one script carrying this response's nonce, so an escaping mistake
 * elsewhere still cannot run injected script.
 */
export function renderPage(page: Page, nonce: string): { html: string; csp: string } {
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(page.title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
${page.body}
${page.script ? `<script nonce="${nonce}">${page.script}</script>` : ''}
</body>
</html>
`;
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return { html, csp };
}
