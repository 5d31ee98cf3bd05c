import appendField from 'append-field';
import { apiError, toFormValue, type FormMap } from '@ticketflow/contract';

/** More fields than any reply needs; bounds work on hostile bodies. */
export const MAX_FORM_FIELDS = 1000;

/**
 * Parses an urlencoded body or query string (PHP `http_build_query` output) into fields,
 * nesting PHP names like `attachments[0][name]` and `customfields[1]` with the same rules
 * multer applies to multipart fields, so every encoding yields the same tree.
 */
export function parseForm(text: string): FormMap {
  const store = Object.create(null) as object;
  let count = 0;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    if (++count > MAX_FORM_FIELDS)
      throw apiError('payload_too_large', 'Field count', `${MAX_FORM_FIELDS} fields`);
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    if (name !== '') appendField(store, name, value);
  }
  return toFormValue(store) as FormMap;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    throw apiError(
      'malformed_body',
      `invalid percent-encoding in ${JSON.stringify(part.slice(0, 40))}`,
    );
  }
}
