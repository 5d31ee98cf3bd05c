import { describe, it, expect } from 'vitest';
import { checkAttachmentName, storableName } from './attachment-name.ts';
import { apiErrorFrom, expectApiError } from './test-helpers.ts';

/** The default allow-list of API.md §6. */
const DEFAULT = ['.jpg', '.gif', '.jpeg', '.png', '.txt', '.pdf'] as const;

/** Asserts the name is refused as an invalid attachment, with exactly `message`. */
function expectRefused(
  raw: string,
  message: string | RegExp,
  allowed: readonly string[] = DEFAULT,
) {
  expectApiError(() => checkAttachmentName(1, raw, allowed), {
    status: 400,
    code: 'invalid_attachment',
    message,
  });
}

describe('checkAttachmentName', () => {
  it('keeps an ordinary allowed name as it is', () => {
    expect(checkAttachmentName(1, 'report.pdf', DEFAULT)).toBe('report.pdf');
  });

  describe('path traversal', () => {
    it('stores ../../etc/passwd.txt under its base name passwd.txt', () => {
      expect(checkAttachmentName(1, '../../etc/passwd.txt', DEFAULT)).toBe('passwd.txt');
    });

    it('stores ..\\..\\x.png (Windows separators) under its base name x.png', () => {
      expect(checkAttachmentName(1, '..\\..\\x.png', DEFAULT)).toBe('x.png');
    });

    it('takes the part after the last separator of either kind, mixed or absolute', () => {
      expect(checkAttachmentName(1, 'C:\\Users\\a/b\\c/scan.jpg', DEFAULT)).toBe('scan.jpg');
      expect(checkAttachmentName(1, '/var/www/html/index.txt', DEFAULT)).toBe('index.txt');
    });

    it('refuses a name that ends in a separator, since nothing is left of it', () => {
      expectRefused('../../', 'Attachment 1 ("../../"): the name has no usable characters');
    });
  });

  describe('characters', () => {
    it('removes NUL from a name (a\\u0000b.txt → ab.txt)', () => {
      expect(checkAttachmentName(1, 'a\u0000b.txt', DEFAULT)).toBe('ab.txt');
    });

    it('removes control characters, tabs and newlines included', () => {
      expect(checkAttachmentName(1, 'a\u0007\t\r\nb\u001b\u007f.txt', DEFAULT)).toBe('ab.txt');
    });

    it('removes a NUL that would hide a banned extension, and judges what is left', () => {
      // `x.php\0.txt` once fooled C string handling into writing x.php.
      expect(checkAttachmentName(1, 'x.php\u0000.txt', DEFAULT)).toBe('x.php.txt');
    });

    it('keeps unicode letters, marks and digits', () => {
      expect(checkAttachmentName(1, 'résumé 日本.pdf', DEFAULT)).toBe('résumé 日本.pdf');
      expect(checkAttachmentName(1, 'Ελληνικά_2024.txt', DEFAULT)).toBe('Ελληνικά_2024.txt');
      // e + U+0301 COMBINING ACUTE ACCENT: a mark, kept.
      expect(checkAttachmentName(1, 'cafe\u0301.png', DEFAULT)).toBe('cafe\u0301.png');
      expect(checkAttachmentName(1, 'الملف ٣.jpg', DEFAULT)).toBe('الملف ٣.jpg');
    });

    it('keeps hyphen, underscore, dot and space', () => {
      expect(checkAttachmentName(1, 'my-file_v1.2 final.pdf', DEFAULT)).toBe(
        'my-file_v1.2 final.pdf',
      );
    });

    it('removes other punctuation and symbols', () => {
      expect(checkAttachmentName(1, `a!"#$%&'()*+,:;<=>?@[]^\`{|}~b.txt`, DEFAULT)).toBe('ab.txt');
      expect(checkAttachmentName(1, 'price€£¥ 🎉.pdf', DEFAULT)).toBe('price .pdf');
    });

    it('removes invisible format characters that would disguise the extension', () => {
      // U+202E RIGHT-TO-LEFT OVERRIDE shows `x‮txt.php` as `xphp.txt`; U+200B is zero width.
      expectRefused('x\u202Etxt.php', /extension \.php is never allowed/);
      expectRefused('x.p\u200Bhp', /extension \.php is never allowed/);
    });

    it('trims spaces around the name, so a trailing space cannot hide the extension', () => {
      expect(checkAttachmentName(1, '  notes.txt  ', DEFAULT)).toBe('notes.txt');
      expectRefused('x.php ', /extension \.php is never allowed/);
    });

    it('refuses a name with no usable characters', () => {
      expectRefused('', 'Attachment 1 (""): the name has no usable characters');
      expectRefused('@#$%', 'Attachment 1 ("@#$%"): the name has no usable characters');
      expectRefused('🎉🎉', 'Attachment 1 ("🎉🎉"): the name has no usable characters');
      expectRefused('   ', 'Attachment 1 ("   "): the name has no usable characters');
      expectRefused('\u0000\u0001', /the name has no usable characters$/);
    });
  });

  describe('dotfiles', () => {
    it('refuses .htaccess (a leading dot)', () => {
      expectRefused('.htaccess', 'Attachment 1 (".htaccess"): names may not start with a dot');
    });

    it('refuses other dotfiles, even with an allowed extension', () => {
      expectRefused('.env.txt', /names may not start with a dot$/);
      expectRefused('.pdf', /names may not start with a dot$/);
      expectRefused('uploads/.user.ini.txt', /names may not start with a dot$/);
    });

    it('refuses a name whose leading dot appears only once other characters are removed', () => {
      expectRefused('#.htaccess', /names may not start with a dot$/);
    });
  });

  describe('extensions', () => {
    it.each(['x.php', 'x.PhP', 'x.PHP', 'x.txt.php', 'x.phtml', 'x.phar', 'x.cgi', 'x.pl'])(
      'refuses %s: its extension is never allowed',
      (raw) => {
        const extension = raw.slice(raw.lastIndexOf('.')).toLowerCase();
        expectRefused(
          raw,
          `Attachment 1 (${JSON.stringify(raw)}): extension ${extension} is never allowed`,
        );
      },
    );

    it('refuses x.htaccess: htaccess is never allowed as an extension either', () => {
      expectRefused('x.htaccess', /extension \.htaccess is never allowed$/);
    });

    it('refuses banned extensions even when the allow-list names them', () => {
      expectRefused('x.php', /extension \.php is never allowed$/, ['.php', '.txt']);
    });

    it('accepts x.php.txt as a .txt file: only the last extension counts', () => {
      expect(checkAttachmentName(1, 'x.php.txt', DEFAULT)).toBe('x.php.txt');
    });

    it('refuses x.exe naming the extension and the allow-list', () => {
      expectRefused(
        'x.exe',
        'Attachment 1 ("x.exe"): extension .exe is not allowed (allowed: .jpg, .gif, .jpeg, .png, .txt, .pdf)',
      );
    });

    it('refuses a name without an extension, or ending in a dot', () => {
      expectRefused(
        'README',
        'Attachment 1 ("README"): a name needs an extension (allowed: .jpg, .gif, .jpeg, .png, .txt, .pdf)',
      );
      expectRefused('x.php.', /a name needs an extension/);
    });

    it('matches extensions case-insensitively and keeps the case as sent', () => {
      expect(checkAttachmentName(1, 'SCAN.PDF', DEFAULT)).toBe('SCAN.PDF');
      expect(checkAttachmentName(1, 'photo.JpEg', DEFAULT)).toBe('photo.JpEg');
    });

    it('takes the allow-list from its argument', () => {
      expect(checkAttachmentName(1, 'data.csv', ['.csv'])).toBe('data.csv');
      expectRefused(
        'x.pdf',
        'Attachment 1 ("x.pdf"): extension .pdf is not allowed (allowed: .csv)',
        ['.csv'],
      );
    });

    it('numbers the attachment by the position it is given', () => {
      expectRefused('x.exe', /^Attachment 1 /);
      const error = apiErrorFrom(() => checkAttachmentName(7, 'x.exe', DEFAULT));
      expect(error.message).toMatch(/^Attachment 7 \("x\.exe"\): /);
    });

    it('quotes at most 100 characters of the name in the message', () => {
      const raw = `${'a'.repeat(300)}.exe`;
      const error = apiErrorFrom(() => checkAttachmentName(1, raw, DEFAULT));
      expect(error.message).toContain(JSON.stringify('a'.repeat(100)));
      expect(error.message).not.toContain('a'.repeat(101));
    });
  });

  describe('length', () => {
    it('caps a name at 255 characters', () => {
      const name = checkAttachmentName(1, `${'a'.repeat(400)}.pdf`, DEFAULT);
      expect(name.length).toBe(255);
    });

    it('keeps a name of exactly 255 characters whole', () => {
      const raw = `${'a'.repeat(251)}.pdf`;
      expect(checkAttachmentName(1, raw, DEFAULT)).toBe(raw);
    });

    it('keeps the extension of a name it caps', () => {
      const name = checkAttachmentName(1, `${'a'.repeat(400)}.pdf`, DEFAULT);
      expect(name).toMatch(/^a+\.pdf$/);
    });

    it('never caps a long x…x.php.txt into a name ending in .php', () => {
      // 251 + ".php" is 255 characters: cutting `….php.txt` at 255 would leave `….php`.
      const name = checkAttachmentName(1, `${'a'.repeat(251)}.php.txt`, DEFAULT);
      expect(name.length).toBeLessThanOrEqual(255);
      expect(name).toMatch(/\.txt$/);
    });

    it('counts the cap after removing characters, not before', () => {
      const name = checkAttachmentName(1, `${'#'.repeat(300)}short.txt`, DEFAULT);
      expect(name).toBe('short.txt');
    });
  });

  it('is what checking its own result again returns (the worker re-checks job names)', () => {
    for (const raw of ['../../etc/passwd.txt', 'résumé 日本.pdf', 'a\u0000b.txt', 'x.php.txt']) {
      const once = checkAttachmentName(1, raw, DEFAULT);
      expect(checkAttachmentName(1, once, DEFAULT)).toBe(once);
    }
  });
});

describe('storableName', () => {
  it('keeps the name as sent, path and punctuation included', () => {
    expect(storableName('../../etc/passwd.txt')).toBe('../../etc/passwd.txt');
    expect(storableName('résumé (final) #2.pdf')).toBe('résumé (final) #2.pdf');
  });

  it('removes NUL and other control characters, which PostgreSQL text cannot hold or which mean nothing', () => {
    expect(storableName('a\u0000b.txt')).toBe('ab.txt');
    expect(storableName('a\tb\r\nc\u001f\u007f.txt')).toBe('abc.txt');
  });

  it('caps the name at 255 characters', () => {
    expect(storableName('a'.repeat(400))).toHaveLength(255);
    expect(storableName('a'.repeat(255))).toHaveLength(255);
  });

  it('caps a long name so that the worker, checking it again, still accepts it', () => {
    // The ingress puts storableName(raw) in the job and the worker runs checkAttachmentName on
    // it: whatever the ingress accepted must still be acceptable after the cap.
    const raw = `${'b'.repeat(300)}.pdf`;
    expect(() => checkAttachmentName(1, raw, DEFAULT)).not.toThrow();
    expect(checkAttachmentName(1, storableName(raw), DEFAULT)).toMatch(/\.pdf$/);
  });
});
