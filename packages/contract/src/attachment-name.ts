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
  const label = `Attachment ${position} (${JSON.stringify(raw.slice(0, 100))})`;
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
  return name.slice(0, 255);
}

/**
 * The name as sent, kept as the attachment's original name: control characters (NUL
 * included) cannot be stored as text nor mean anything in a name, and 255 characters is plenty.
 */
export function storableName(raw: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  return raw.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 255);
}
