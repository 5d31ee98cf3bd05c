import type { Handler } from './handler.ts';

/** One row per endpoint of API.md §1 (health and the dashboard are mounted apart). */
export interface Route {
  methods: ReadonlyArray<'get' | 'post'>;
  path: string;
  handler: Handler;
  /** Answers the WHMCS way: action errors as HTTP 200, auth errors as 403. */
  whmcs?: boolean;
  /** The body is one raw `message/rfc822`, read as bytes, not form fields. */
  rawMessage?: boolean;
}

export interface RouteHandlers {
  addTicketReply: Handler;
  getTicket: Handler;
  getTicketAttachment: Handler;
  replyStatus: Handler;
  whmcsApi: Handler;
  /** The email bridge over HTTP; absent when the app runs without bridge settings. */
  inboundEmail?: Handler;
}

export function routeTable(h: RouteHandlers): Route[] {
  return [
    { methods: ['post'], path: '/api/v2/add-ticket-reply', handler: h.addTicketReply },
    { methods: ['get', 'post'], path: '/api/v2/get-ticket', handler: h.getTicket },
    {
      methods: ['get', 'post'],
      path: '/api/v2/get-ticket-attachment',
      handler: h.getTicketAttachment,
    },
    { methods: ['get'], path: '/api/v2/replies/:replyid', handler: h.replyStatus },
    { methods: ['post'], path: '/includes/api.php', handler: h.whmcsApi, whmcs: true },
    ...(h.inboundEmail
      ? [
          {
            methods: ['post'] as const,
            path: '/api/v2/inbound-email',
            handler: h.inboundEmail,
            rawMessage: true,
          },
        ]
      : []),
  ];
}
