import { describe, expect, it } from 'vitest';
import { escapeHtml, renderPage } from './render-page.ts';

describe('renderPage', () => {
  it('escapes the five characters that can leave text or an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('allows only its own nonce-carrying script and style, and no framing', () => {
    const { html, csp } = renderPage({ title: '<t>', body: '<p>b</p>', script: 'go()' }, 'n0nce');
    expect(html).toContain('<title>&lt;t&gt;</title>');
    expect(html).toContain('<script nonce="n0nce">go()</script>');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'nonce-n0nce'");
    expect(csp).toContain("frame-ancestors 'none'");
  });
});
