/** A logged-in browser as far as HTTP goes: the cookies to send and the XSRF token to echo. */
export interface BrowserSession {
  cookie: string;
  xsrf: string;
  /** The raw Set-Cookie values of the login answer. */
  setCookies: string[];
}

/** Posts the login form as a browser does; fails the test unless it is accepted. */
export async function logIn(url: string, token: string): Promise<BrowserSession> {
  const res = await postLogin(url, { token });
  if (res.status !== 303) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  const setCookies = res.headers.getSetCookie();
  const values = Object.fromEntries(
    setCookies.map((c) => {
      const pair = c.split(';')[0]!;
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  return {
    cookie: `ticketflow_session=${values.ticketflow_session}; XSRF-TOKEN=${values['XSRF-TOKEN']}`,
    xsrf: decodeURIComponent(values['XSRF-TOKEN'] ?? ''),
    setCookies,
  };
}

export function postLogin(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${url}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The attributes of one Set-Cookie value, lower-cased names. */
export function cookieAttributes(setCookie: string): Map<string, string> {
  return new Map(
    setCookie
      .split(';')
      .slice(1)
      .map((part) => {
        const [name, value = ''] = part.trim().split('=');
        return [name!.toLowerCase(), value];
      }),
  );
}
