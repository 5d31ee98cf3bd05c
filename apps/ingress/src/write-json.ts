import type { ServerResponse } from 'node:http';

/**
 * Writes every JSON answer the ingress gives. Straight to Node's response: Express's
 * `res.json` re-parses the content type to set a charset and checks freshness on each call.
 */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const json = JSON.stringify(body);
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}
