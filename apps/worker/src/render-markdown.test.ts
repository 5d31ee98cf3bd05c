import fc from 'fast-check';
import { DomUtils, parseDocument } from 'htmlparser2';
import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderPlain, SANITIZE } from './render-markdown.ts';

/**
 * What no stored `message_html` may contain, whatever the attack looked like: anything that runs
 * script, loads a frame or restyles the page, and any URL scheme a browser would execute.
 */
const ACTIVE = [
  /<script/i,
  /<iframe/i,
  /<svg/i,
  /<style/i,
  /<object/i,
  /<embed/i,
  /\son\w+\s*=/i,
  /javascript:/i,
  /vbscript:/i,
  /data:/i,
  /target=/i,
];

function expectInert(html: string): void {
  for (const pattern of ACTIVE) expect(html).not.toMatch(pattern);
}

describe('renderMarkdown removes what could run', () => {
  it('drops a <script> element and its body', () => {
    const html = renderMarkdown('before <script>alert(document.cookie)</script> after');
    expectInert(html);
    expect(html).not.toContain('alert');
    expect(html).toContain('before');
    expect(html).toContain('after');
  });

  it('strips the onerror handler from <img src=x onerror=alert(1)>', () => {
    const html = renderMarkdown('<img src=x onerror=alert(1)>');
    expectInert(html);
    expect(html).not.toContain('alert');
  });

  it('drops the href of [x](javascript:alert(1)) and keeps the text', () => {
    const html = renderMarkdown('[x](javascript:alert(1))');
    expectInert(html);
    expect(html).not.toContain('href');
    expect(html).toContain('>x</a>');
  });

  it('drops the href of a mixed-case [x](JaVaScRiPt:alert(1))', () => {
    const html = renderMarkdown('[x](JaVaScRiPt:alert(1))');
    expectInert(html);
    expect(html).not.toContain('href');
  });

  it('drops the href of [x](data:text/html;base64,...)', () => {
    const html = renderMarkdown('[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)');
    expectInert(html);
    expect(html).not.toContain('href');
    expect(html).not.toContain('PHNjcmlwdD5');
  });

  it('drops a data: image source', () => {
    const html = renderMarkdown('<img src="data:image/svg+xml;base64,PHN2Zz4=">');
    expectInert(html);
    expect(html).not.toContain('src=');
  });

  it('drops the href of a raw <a href="vbscript:...">', () => {
    const html = renderMarkdown('<a href="vbscript:msgbox(1)">x</a>');
    expectInert(html);
    expect(html).not.toContain('href');
  });

  it('drops an <iframe> entirely', () => {
    const html = renderMarkdown('<iframe src="https://evil.example/frame"></iframe>');
    expectInert(html);
    expect(html).not.toContain('evil.example');
  });

  it('drops an <svg onload> element', () => {
    const html = renderMarkdown('<svg onload=alert(1)><circle r="1"/></svg>');
    expectInert(html);
    expect(html).not.toContain('alert');
    expect(html).not.toContain('circle');
  });

  it('drops a <style> element and its rules', () => {
    const html = renderMarkdown('<style>body { display: none }</style>visible');
    expectInert(html);
    expect(html).not.toContain('display');
    expect(html).toContain('visible');
  });

  it('drops a javascript: URL hidden behind HTML entities (&#106;avascript:)', () => {
    for (const source of [
      '<a href="&#106;avascript:alert(1)">x</a>',
      '[x](&#106;avascript:alert(1))',
      '<a href="&#x6A;&#x61;vascript&#58;alert(1)">x</a>',
      '<a href="java&#x09;script:alert(1)">x</a>',
    ]) {
      const html = renderMarkdown(source);
      expectInert(html);
      expect(html, source).not.toContain('href');
    }
  });

  it('removes target and event handlers from an <a>, keeps its https href and adds rel', () => {
    const html = renderMarkdown(
      '<a href="https://ok.example/page" target="_blank" onclick="steal()">read</a>',
    );
    expectInert(html);
    expect(html).toContain('href="https://ok.example/page"');
    expect(html).toContain('rel="noopener noreferrer nofollow"');
    expect(html).not.toContain('steal');
  });

  it('replaces a rel the author wrote with ours', () => {
    const html = renderMarkdown('<a href="https://ok.example" rel="opener">x</a>');
    expect(html).toContain('rel="noopener noreferrer nofollow"');
    expect(html).not.toContain('rel="opener"');
  });
});

describe('renderMarkdown keeps ordinary markdown', () => {
  it('keeps emphasis and strong text', () => {
    expect(renderMarkdown('*soon* and **now**')).toBe(
      '<p><em>soon</em> and <strong>now</strong></p>\n',
    );
  });

  it('keeps bulleted and numbered lists', () => {
    const html = renderMarkdown('- one\n- two\n\n3. three\n4. four');
    expect(html).toContain('<ul>\n<li>one</li>\n<li>two</li>\n</ul>');
    expect(html).toContain('<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>');
  });

  it('keeps inline code and fenced code with its language class, escaped', () => {
    const html = renderMarkdown('run `npm ci`\n\n```js\nif (a < b) run();\n```');
    expect(html).toContain('<code>npm ci</code>');
    expect(html).toContain('<pre><code class="language-js">if (a &lt; b) run();\n</code></pre>');
  });

  it('keeps an https link and adds rel="noopener noreferrer nofollow"', () => {
    expect(renderMarkdown('[status page](https://status.example.com/)')).toBe(
      '<p><a href="https://status.example.com/" rel="noopener noreferrer nofollow">status page</a></p>\n',
    );
  });

  it('keeps mailto links', () => {
    expect(renderMarkdown('[mail us](mailto:help@example.com)')).toContain(
      'href="mailto:help@example.com"',
    );
  });

  it('keeps tables with column alignment', () => {
    const html = renderMarkdown('| plan | price |\n|---|:-:|\n| Pro | 10 |');
    expect(html).toContain('<table>');
    expect(html).toContain('<th>plan</th>');
    expect(html).toContain('<th align="center">price</th>');
    expect(html).toContain('<td align="center">10</td>');
  });

  it('turns single line breaks into <br /> (breaks: true)', () => {
    expect(renderMarkdown('line one\nline two')).toBe('<p>line one<br />line two</p>\n');
  });

  it('drops task-list checkboxes and keeps the item text', () => {
    expect(renderMarkdown('- [x] done\n- [ ] to do')).toBe(
      '<ul>\n<li> done</li>\n<li> to do</li>\n</ul>\n',
    );
  });
});

/** The same HTML written one way: entities decoded, attributes and void tags spelled alike. */
function canonical(html: string): string {
  return DomUtils.getOuterHTML(parseDocument(html), { encodeEntities: 'utf8' });
}

/** Markdown as it was rendered before the sanitiser was skipped: marked's own output, sanitised. */
const reference = new Marked({ async: false, gfm: true, breaks: true });
const sanitisedReference = (md: string) => sanitizeHtml(reference.parse(md) as string, SANITIZE);

/** Pieces of replies, ordinary and hostile, that the property test strings together. */
const PIECES = [
  'Hello',
  'déjà vu',
  '**strong**',
  '*em*',
  '_em_',
  '~~gone~~',
  '`a<b>&"\'`',
  '[status](https://status.example.com/a?b=1&c=2 "it\'s")',
  '[q](https://x.example/"onmouseover="alert(1))',
  '[space](<https://x.example/a b>)',
  '[up](HTTPS://UP.EXAMPLE)',
  '[mail](mailto:help@example.com)',
  '[js](javascript:alert(1))',
  '[js2](JaVaScRiPt:alert(1))',
  '[ent](&#106;avascript:alert(1))',
  '[data](data:text/html;base64,PHNjcmlwdD4=)',
  '[rel](/relative/path)',
  '[proto](//evil.example)',
  '[ref]',
  '[ref]: https://ref.example/x',
  '![img](https://img.example/a.png "t")',
  '![bad](javascript:alert(1))',
  '[![img](https://img.example/a.png)](https://x.example)',
  '<https://auto.example/x>',
  '<javascript:alert(1)>',
  '<mailto:a@b.example>',
  'www.example.com/path?x=1&y=2',
  "https://bare.example/'quoted'",
  'a@b.example',
  '<b>raw</b>',
  '<a href="https://ok.example" onclick="x()">raw link</a>',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<!-- comment -->',
  '&copy; &amp; &lt;tag&gt; &#0; &#x27; &nbsp; &bogus;',
  '< > & " \'',
  '\\<not a tag\\>',
  '- item',
  '1. first',
  '3) third',
  '- [ ] task',
  '- [x] done',
  '# Heading',
  '### Small *heading*',
  '> quoted',
  '```js\nif (a < b && c) run("x");\n```',
  '    indented code <x>',
  '| a | b |\n|:--|--:|\n| 1 | `2` |',
  '---',
  'line  ',
];

describe('renderMarkdown without the sanitiser pass', () => {
  it('renders every reply as the sanitiser would have: same elements, attributes and text', () => {
    const separators = fc.constantFrom(' ', '\n', '\n\n', '');
    const markdown = fc
      .array(
        fc.tuple(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 8 })), separators),
        {
          maxLength: 12,
        },
      )
      .map((parts) => parts.map(([piece, sep]) => piece + sep).join(''));
    fc.assert(
      fc.property(markdown, (md) => {
        const html = renderMarkdown(md);
        expect(canonical(html), md).toBe(canonical(sanitisedReference(md)));
        // And nothing in it that the allow-list would still take out.
        expect(canonical(sanitizeHtml(html, SANITIZE)), md).toBe(canonical(html));
      }),
      { numRuns: 2000 },
    );
  });

  it('renders each piece alone as the sanitiser would have', () => {
    for (const md of PIECES) {
      expect(canonical(renderMarkdown(md)), md).toBe(canonical(sanitisedReference(md)));
    }
  });
});

describe('renderPlain', () => {
  it('escapes < > & " and \'', () => {
    expect(renderPlain(`<b>"Tom" & 'Jerry'</b>`)).toBe(
      '&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;',
    );
  });

  it('leaves markup inert: a <script> is shown, not run', () => {
    const html = renderPlain('<script>alert(1)</script>');
    expect(html).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<');
  });

  it('keeps \\n, \\r\\n and \\r line breaks as <br>', () => {
    expect(renderPlain('one\ntwo\r\nthree\rfour')).toBe('one<br>\ntwo<br>\nthree<br>\nfour');
  });

  it('does not interpret markdown', () => {
    expect(renderPlain('**not bold** [x](javascript:alert(1))')).toBe(
      '**not bold** [x](javascript:alert(1))',
    );
  });
});
