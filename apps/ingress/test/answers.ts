/** What an endpoint answered: its status, its headers and its JSON body. */
export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** Reads a fetch response, whose body must be JSON, as an {@link Answer}. */
export async function answerOf(res: Response): Promise<Answer> {
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as Record<string, unknown>,
  };
}

/**
 * An urlencoded POST, as PHP's http_build_query sends it; a list value repeats the name, as a
 * form with two inputs would. `headers` come last, so they may replace the content type.
 */
export async function postForm(
  url: string,
  fields: Record<string, string | string[]>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
  }
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  return answerOf(res);
}
