import { apiError } from './errors.ts';

/** Extensions refused whatever the allow-list says: what a web server might execute. */
const ALWAYS_BANNED = new Set(['php', 'phtml', 'phar', 'cgi', 'pl', 'htaccess']);

/**
 * The stored display name of attachment `position` (1-based, as messages count): the base name
 * after the last `/` or `\`, keeping only letters, digits, `- _ .` and space. Refuses an empty
 * result, a leading dot, and an extension outside `allowedExtensions` (`.pdf` style) or always
 * banned. Pure: the ingress and the worker run the same rules.
 */
export function checkAttachmentName(
  position: number,
  raw: string,
  allowedExtensions: readonly string[],
): string {
  const label = attachmentLabel(position, raw);
  const base = raw.slice(Math.max(raw.lastIndexOf('/'), raw.lastIndexOf('\\')) + 1);
  const name = base.replace(/[^\p{L}\p{M}\p{N}\-_. ]/gu, '').trim();
  if (name === '')
    throw apiError('invalid_attachment', `${label}: the name has no usable characters`);
  if (name.startsWith('.'))
    throw apiError('invalid_attachment', `${label}: names may not start with a dot`);
  const dot = name.lastIndexOf('.');
  const extension = dot === -1 ? '' : name.slice(dot + 1).toLowerCase();
  if (ALWAYS_BANNED.has(extension)) {
    throw apiError('invalid_attachment', `${label}: extension .${extension} is never allowed`);
  }
  if (!allowedExtensions.includes(`.${extension}`)) {
    throw apiError(
      'invalid_attachment',
      extension === ''
        ? `${label}: a name needs an extension (allowed: ${allowedExtensions.join(', ')})`
        : `${label}: extension .${extension} is not allowed (allowed: ${allowedExtensions.join(', ')})`,
    );
  }
  // Cap the stem, never the extension: cutting `aaa….php.txt` at 255 could leave `aaa….php`.
  return name.length <= 255 ? name : name.slice(0, 255 - (name.length - dot)) + name.slice(dot);
}

/**
 * The name as sent, kept as the attachment's original name: control characters (NUL
 * included) cannot be stored as text nor mean anything in a name, and 255 characters is plenty.
 */
export function storableName(raw: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const clean = raw.replace(/[\u0000-\u001f\u007f]/g, '');
  if (clean.length <= 255) return clean;
  // Too long to keep whole: keep what the stored name is made of, so the worker's check of the
  // job's name accepts what the ingress accepted: the base name, and its extension if it is cut.
  const base = clean.slice(Math.max(clean.lastIndexOf('/'), clean.lastIndexOf('\\')) + 1);
  if (base.length <= 255) return base;
  const dot = base.lastIndexOf('.');
  const extension = dot > 0 && base.length - dot <= 32 ? base.slice(dot) : '';
  return base.slice(0, 255 - extension.length) + extension;
}

/** How messages name attachment `position` (1-based): `Attachment 2 ("report.pdf")`. */
export function attachmentLabel(position: number, rawName: string): string {
  return `Attachment ${position} (${JSON.stringify(rawName.slice(0, 100))})`;
}
