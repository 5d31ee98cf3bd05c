/**
 * The error catalogue: every error that reaches the wire is built here, with its snake_case
 * code, HTTP status and message. Messages quoted from API.md (and WHMCS) are exact; the others
 * tell the caller what to do. The ingress error middleware is the only place that writes them.
 */
const catalogue = {
  missing_bearer_token: {
    status: 401,
    message: () => 'Authentication Failed: missing bearer token',
  },
  invalid_token: { status: 401, message: (reason: string) => `Authentication Failed: ${reason}` },
  forbidden: { status: 403, message: (reason: string) => `Invalid Permissions: ${reason}` },
  login_required: {
    status: 401,
    message: () =>
      'Authentication Failed: log in at /admin/login, or send an ops token as Authorization: Bearer',
  },
  xsrf_token_invalid: {
    status: 403,
    message: () =>
      'Invalid Permissions: missing or wrong X-XSRF-TOKEN header; send back the XSRF-TOKEN cookie set at login',
  },
  ticket_required: { status: 400, message: () => 'Either ticketid or ticketnum is required' },
  ticket_not_found: { status: 404, message: () => 'Ticket ID Not Found' },
  client_not_found: { status: 404, message: () => 'Client ID Not Found' },
  contact_not_found: { status: 404, message: () => 'Contact ID Not Found' },
  reply_not_found: { status: 404, message: () => 'Reply ID Not Found' },
  dead_letter_not_found: {
    status: 404,
    message: (id: string) => `Dead letter ${id} not found; list them on the dead letters page`,
  },
  attachment_not_found: { status: 404, message: (what: string) => what },
  name_email_required: {
    status: 400,
    message: () => 'Name and email address are required if not a client',
  },
  email_invalid: { status: 400, message: () => 'Email Address Invalid' },
  message_required: { status: 400, message: () => 'Message is required' },
  invalid_status: { status: 400, message: () => 'Invalid Ticket Status' },
  invalid_date: { status: 400, message: () => 'Invalid Date Format' },
  date_in_future: { status: 400, message: () => 'Reply creation date cannot be in the future' },
  invalid_boolean: {
    status: 400,
    message: (field: string, value: string) =>
      `Invalid boolean for ${field}: ${JSON.stringify(value)}`,
  },
  invalid_integer: {
    status: 400,
    message: (field: string, value: string) =>
      `Invalid ${field}: ${JSON.stringify(value)} is not a positive whole number`,
  },
  invalid_parameter: {
    status: 400,
    message: (field: string, rule: string) => `Invalid ${field}: ${rule}`,
  },
  invalid_attachment: { status: 400, message: (detail: string) => detail },
  invalid_custom_field: { status: 400, message: (detail: string) => `Custom field ${detail}` },
  malformed_body: { status: 400, message: (detail: string) => `Malformed request body: ${detail}` },
  invalid_idempotency_key: {
    status: 400,
    message: () => 'Invalid Idempotency-Key: use 1 to 255 printable ASCII characters',
  },
  invalid_api_action: { status: 400, message: () => 'Invalid API action' },
  idempotency_key_in_progress: {
    status: 409,
    message: () =>
      'A request with this Idempotency-Key is still in progress; retry after it completes',
  },
  dead_letter_replayed: {
    status: 409,
    message: (id: string, when: string) =>
      `Dead letter ${id} was already replayed at ${when}; a new failure lists it again`,
  },
  idempotency_key_reused: {
    status: 422,
    message: () =>
      'This Idempotency-Key was already used for a different request; use a new key for a new request',
  },
  email_no_ticket: {
    status: 422,
    message: () =>
      'No ticket matches this email: reply to a Ticketflow notification, or keep the ticket tag in the subject',
  },
  email_sender_not_allowed: {
    status: 422,
    message: (sender: string) =>
      `${JSON.stringify(sender)} may not reply to this ticket; write from an address the ticket knows`,
  },
  email_sender_not_authenticated: {
    status: 422,
    message: (sender: string, authservId: string) =>
      `${JSON.stringify(sender)} could not be authenticated: ${authservId} found no DMARC, DKIM or SPF pass for its domain; send from the domain's own mail servers`,
  },
  email_not_postable: {
    status: 422,
    message: (detail: string) => `This email cannot be posted: ${detail}`,
  },
  reply_dead_lettered: {
    status: 422,
    message: (replyid: string, reason: string) =>
      `Reply ${replyid} was accepted but not stored: ${reason}; fix the cause and send it again`,
  },
  payload_too_large: {
    status: 413,
    message: (what: string, limit: string) => `${what} exceeds the limit of ${limit}`,
  },
  headers_too_large: {
    status: 431,
    message: (limit: string) =>
      `Request headers (or the URL) exceed the limit of ${limit}; send large values in the body`,
  },
  malformed_request: {
    status: 400,
    message: () => 'Malformed HTTP request',
  },
  unsupported_content_type: {
    status: 415,
    message: (type: string, expected = 'form, multipart or JSON') =>
      `Unsupported Content-Type ${JSON.stringify(type)}; send ${expected}`,
  },
  rate_limited: {
    status: 429,
    message: (scope: string, seconds: number) =>
      `Too many requests for this ${scope}; retry in ${seconds} s`,
  },
  not_found: { status: 404, message: (path: string) => `No endpoint at ${path}` },
  service_unavailable: {
    status: 503,
    message: (what: string) =>
      `Service temporarily unavailable (${what}); nothing was accepted, retry later`,
  },
  internal_error: {
    status: 500,
    message: () =>
      'Internal error; nothing was accepted. Retry, and report the request id if it persists',
  },
} as const;

type Catalogue = typeof catalogue;
/** Every error code the API can answer with. */
export type ErrorCode = keyof Catalogue;
type MessageArgs<C extends ErrorCode> = Parameters<Catalogue[C]['message']>;

/** An error meant for the wire: code, status and message come from the catalogue. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** Extra response headers (Retry-After, WWW-Authenticate, …). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.headers = headers;
  }
}

/** Builds the catalogue's error for `code`. */
export function apiError<C extends ErrorCode>(code: C, ...args: MessageArgs<C>): ApiError {
  const entry = catalogue[code];
  const message = (entry.message as (...a: MessageArgs<C>) => string)(...args);
  return new ApiError(code, entry.status, message);
}

/** Same as apiError, with response headers. */
export function apiErrorWithHeaders<C extends ErrorCode>(
  headers: Record<string, string>,
  code: C,
  ...args: MessageArgs<C>
): ApiError {
  const e = apiError(code, ...args);
  return new ApiError(e.code, e.status, e.message, headers);
}

/** The codes and statuses, for documentation tests. */
export const ERROR_STATUSES: Readonly<Record<ErrorCode, number>> = Object.fromEntries(
  Object.entries(catalogue).map(([code, e]) => [code, e.status]),
) as Record<ErrorCode, number>;
