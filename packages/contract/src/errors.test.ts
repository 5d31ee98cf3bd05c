import { describe, it, expect } from 'vitest';
import {
  ApiError,
  apiError,
  apiErrorWithHeaders,
  ERROR_STATUSES,
  type ErrorCode,
} from './errors.ts';

describe('apiError', () => {
  it('builds an ApiError with the code, the status and the message of the catalogue', () => {
    const error = apiError('ticket_not_found');
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ticket_not_found');
    expect(error.status).toBe(404);
    expect(error.message).toBe('Ticket ID Not Found');
    expect(error.name).toBe('ApiError');
    expect(error.headers).toEqual({});
  });

  it('fills the message template with its arguments', () => {
    const error = apiError('invalid_boolean', 'markdown', 'maybe');
    expect(error.status).toBe(400);
    expect(error.message).toBe('Invalid boolean for markdown: "maybe"');
  });

  it('keeps a stack trace, so a 500 logged from it points at the throw', () => {
    expect(apiError('internal_error').stack).toContain('ApiError');
  });

  it.each<[string, ApiError, number, string]>([
    [
      'missing token',
      apiError('missing_bearer_token'),
      401,
      'Authentication Failed: missing bearer token',
    ],
    [
      'bad token',
      apiError('invalid_token', 'token expired'),
      401,
      'Authentication Failed: token expired',
    ],
    [
      'client sending adminusername',
      apiError('forbidden', 'adminusername requires a staff token'),
      403,
      'Invalid Permissions: adminusername requires a staff token',
    ],
    ['unknown ticket', apiError('ticket_not_found'), 404, 'Ticket ID Not Found'],
    ['unknown client', apiError('client_not_found'), 404, 'Client ID Not Found'],
    ['unknown contact', apiError('contact_not_found'), 404, 'Contact ID Not Found'],
    [
      'guest without name or email',
      apiError('name_email_required'),
      400,
      'Name and email address are required if not a client',
    ],
    ['bad email', apiError('email_invalid'), 400, 'Email Address Invalid'],
    ['empty message', apiError('message_required'), 400, 'Message is required'],
    ['unknown status', apiError('invalid_status'), 400, 'Invalid Ticket Status'],
    ['bad created', apiError('invalid_date'), 400, 'Invalid Date Format'],
    [
      'created in the future',
      apiError('date_in_future'),
      400,
      'Reply creation date cannot be in the future',
    ],
    ['unknown action', apiError('invalid_api_action'), 400, 'Invalid API action'],
    [
      'text/plain body',
      apiError('unsupported_content_type', 'text/plain'),
      415,
      'Unsupported Content-Type "text/plain"; send form, multipart or JSON',
    ],
    [
      'an email naming no ticket',
      apiError('email_no_ticket'),
      422,
      'No ticket matches this email: reply to a Ticketflow notification, or keep the ticket tag in the subject',
    ],
    [
      'an email from a sender the ticket does not know',
      apiError('email_sender_not_allowed', 'a"b@x.example'),
      422,
      '"a\\"b@x.example" may not reply to this ticket; write from an address the ticket knows',
    ],
    [
      'an email whose sender our MTA could not authenticate',
      apiError('email_sender_not_authenticated', 'ann@client.example', 'mx.help.example'),
      422,
      '"ann@client.example" could not be authenticated: mx.help.example found no DMARC, DKIM or SPF pass for its domain; send from the domain\'s own mail servers',
    ],
    [
      'a text/plain body on the inbound-email route',
      apiError('unsupported_content_type', 'text/plain', 'message/rfc822'),
      415,
      'Unsupported Content-Type "text/plain"; send message/rfc822',
    ],
  ])('answers %s with the exact API.md message', (_, error, status, message) => {
    expect(error.status).toBe(status);
    expect(error.message).toBe(message);
  });

  it('puts the limit in a 413 message', () => {
    const error = apiError('payload_too_large', 'Attachment 1 ("a.pdf")', '10 MiB');
    expect(error.status).toBe(413);
    expect(error.message).toBe('Attachment 1 ("a.pdf") exceeds the limit of 10 MiB');
  });

  it('names the field and the rule in a 400 for a bad parameter', () => {
    expect(apiError('invalid_parameter', 'ticketnum', 'use 1 to 15 letters').message).toBe(
      'Invalid ticketnum: use 1 to 15 letters',
    );
    expect(apiError('invalid_integer', 'ticketid', '1.5').message).toBe(
      'Invalid ticketid: "1.5" is not a positive whole number',
    );
  });

  it('quotes hostile input as JSON so it cannot break the message apart', () => {
    expect(apiError('invalid_boolean', 'markdown', 'a"\nb').message).toBe(
      'Invalid boolean for markdown: "a\\"\\nb"',
    );
  });
});

describe('apiErrorWithHeaders', () => {
  it('adds response headers to the catalogue error', () => {
    const error = apiErrorWithHeaders({ 'Retry-After': '30' }, 'rate_limited', 'ticket', 30);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('rate_limited');
    expect(error.status).toBe(429);
    expect(error.message).toBe('Too many requests for this ticket; retry in 30 s');
    expect(error.headers).toEqual({ 'Retry-After': '30' });
  });

  it('carries WWW-Authenticate on a 401', () => {
    const error = apiErrorWithHeaders(
      { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      'invalid_token',
      'token expired',
    );
    expect(error.status).toBe(401);
    expect(error.headers['WWW-Authenticate']).toBe('Bearer error="invalid_token"');
  });
});

describe('ERROR_STATUSES', () => {
  const entries = Object.entries(ERROR_STATUSES) as [ErrorCode, number][];

  it('uses snake_case for every code, as every error body must', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const [code] of entries) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  it('gives every code an HTTP error status', () => {
    for (const [code, status] of entries) {
      expect(Number.isInteger(status), code).toBe(true);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
    }
  });

  it('matches the statuses of API.md §7', () => {
    expect(ERROR_STATUSES).toMatchObject({
      missing_bearer_token: 401,
      invalid_token: 401,
      forbidden: 403,
      ticket_not_found: 404,
      client_not_found: 404,
      contact_not_found: 404,
      idempotency_key_in_progress: 409,
      payload_too_large: 413,
      unsupported_content_type: 415,
      idempotency_key_reused: 422,
      rate_limited: 429,
      service_unavailable: 503,
      internal_error: 500,
    });
  });

  it('agrees with apiError for every code, each with a message a person can read', () => {
    // Every template takes at most two arguments; strings are enough to fill each of them.
    const build = apiError as (code: ErrorCode, ...args: string[]) => ApiError;
    for (const [code, status] of entries) {
      const error = build(code, 'field', 'value');
      expect(error.code).toBe(code);
      expect(error.status, code).toBe(status);
      expect(error.message.trim().length, code).toBeGreaterThan(0);
    }
  });
});
