const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Strict base64: the standard or the URL-safe alphabet, whitespace and newlines ignored,
 * padding optional. Anything else (stray characters, a length no encoder produces) is
 * undefined, where Node's own decoder would silently skip what it does not understand.
 */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!STANDARD.test(compact) && !URL_SAFE.test(compact)) return undefined;
  const unpadded = compact.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  if (compact.length !== unpadded.length && compact.length % 4 !== 0) return undefined;
  return Buffer.from(unpadded, /[-_]/.test(unpadded) ? 'base64url' : 'base64');
}
