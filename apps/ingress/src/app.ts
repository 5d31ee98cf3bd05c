import express, { type NextFunction, type Request, type Response } from 'express';
import type { QueueEvents } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '@ticketflow/config';
import { createMailIngest, type BridgeSettings, type ObserveMail } from '@ticketflow/bridge';
import { apiError, type AttachmentLimits, type FormMap } from '@ticketflow/contract';
import type { BlobStore, Db } from '@ticketflow/db';
import type { JobDefinition, RedisClient, ReplyQueue } from '@ticketflow/queue';
import { createAddTicketReply } from './add-ticket-reply.ts';
import { assignRequestId, requestIdOf } from './request-id.ts';
import { createAccessLog } from './access-log.ts';
import { createReplyEnqueuer } from './enqueue-reply.ts';
import { createCors } from './cors.ts';
import { createErrorResponder, markWhmcsRoute, type ErrorLimits } from './error-response.ts';
import { createGetTicket } from './get-ticket.ts';
import { createGetTicketAttachment } from './get-ticket-attachment.ts';
import { createReadiness, liveness } from './health.ts';
import { createInboundEmail } from './inbound-email.ts';
import { createRequestObserver, type ObserveRequest } from './observe-requests.ts';
import type { Principal } from './principal.ts';
import { createBodyReader, uploadsOf } from './read-body.ts';
import { createMessageBodyReader } from './read-message-body.ts';
import { createRateLimiter, mailTicketLimit } from './rate-limit.ts';
import { createReplyStatus } from './reply-status.ts';
import { routeTable, type Route } from './routes.ts';
import { createWhmcsApi, WHMCS_TRANSPORT_FIELDS } from './whmcs-api.ts';
import { writeJson } from './write-json.ts';

export interface IngressDeps {
  db: Db;
  queue: ReplyQueue;
  /** The catalog's reply job: the options every reply is enqueued with. */
  replyJob: JobDefinition;
  /** The queue's event stream, opened on first use (only `Prefer: wait` needs it). */
  queueEvents: () => Promise<QueueEvents>;
  /** Producer connection: fails fast when Redis is down. */
  redis: RedisClient;
  queuePrefix: string;
  verifyToken: (authorization: string | undefined) => Principal;
  logger: Logger;
  accessLog: boolean;
  corsOrigins: readonly string[];
  blobs: BlobStore;
  limits: Config['limits'];
  rateLimits: { perPrincipalPerMinute: number; perTicketPerMinute: number };
  idempotencyTtlHours: number;
  /**
   * Routers the serve command mounts beside the API (the dashboard, `/metrics`), each under its
   * path and before the 404 answer; they authenticate on their own.
   */
  mounts?: ReadonlyArray<readonly [path: string, handler: express.RequestHandler]>;
  /** In a process that also runs workers: whether each queue's worker consumes (/readyz). */
  consumers?: () => Record<string, string>;
  /** Given when metrics are on: counts and times every request by route pattern. */
  observeRequest?: ObserveRequest;
  /** The email bridge's settings: given, the app serves `POST /api/v2/inbound-email`. */
  inboundEmail?: BridgeSettings;
  /** Given when metrics are on: counts what became of each inbound message. */
  observeMail?: ObserveMail;
}

/** The ingress HTTP app: the route table of API.md §1 behind auth and body parsing. */
export function createIngressApp(deps: IngressDeps): express.Express {
  const attachmentLimits: AttachmentLimits = {
    count: deps.limits.attachments,
    bytes: deps.limits.attachmentBytes,
    totalBytes: deps.limits.attachmentsTotalBytes,
    extensions: deps.limits.attachmentExtensions,
  };
  // One limiter for every endpoint that posts replies: they share its batches and windows.
  const consumeRateLimits = createRateLimiter(deps.redis, deps.queuePrefix);
  const replyDeps = {
    blobs: deps.blobs,
    attachmentLimits,
    db: deps.db,
    queue: deps.queue,
    replyJob: deps.replyJob,
    queueEvents: deps.queueEvents,
    redis: deps.redis,
    messageLimitBytes: deps.limits.messageBytes,
    rateLimits: deps.rateLimits,
    consumeRateLimits,
    idempotencyTtlHours: deps.idempotencyTtlHours,
    logger: deps.logger,
  };
  // One instance for both endpoints: they share its batches, rate limiter and ticket lookups.
  const addTicketReply = createAddTicketReply(replyDeps);
  const routes = routeTable({
    addTicketReply: addTicketReply(),
    getTicket: createGetTicket(deps.db),
    getTicketAttachment: createGetTicketAttachment(deps.db, deps.blobs),
    replyStatus: createReplyStatus(deps.db, deps),
    whmcsApi: createWhmcsApi({
      addticketreply: addTicketReply(WHMCS_TRANSPORT_FIELDS),
    }),
    ...(deps.inboundEmail && {
      inboundEmail: createInboundEmail(
        createMailIngest({
          db: deps.db,
          blobs: deps.blobs,
          enqueue: createReplyEnqueuer(deps.queue, deps.replyJob, deps.redis),
          settings: deps.inboundEmail,
          logger: deps.logger,
          observe: deps.observeMail,
          limitTicket: mailTicketLimit(consumeRateLimits, deps.rateLimits.perTicketPerMinute),
        }),
        {
          mailbox: deps.inboundEmail.mailbox,
          consumeRateLimits,
          perMinute: deps.rateLimits.perPrincipalPerMinute,
        },
      ),
    }),
  });

  const app = baseApp(deps);
  app.use(createCors(deps.corsOrigins));
  app.get('/healthz', liveness);
  app.get('/readyz', createReadiness(deps));
  const readBody = createBodyReader(
    { bodyBytes: deps.limits.bodyBytes, ...attachmentLimits },
    deps.blobs,
  );
  const readMessageBody = createMessageBodyReader(deps.inboundEmail?.maxMessageBytes ?? 0);
  for (const route of routes) {
    const serve = serveRoute(route, deps.verifyToken, readBody, readMessageBody);
    for (const method of route.methods) app[method](route.path, serve);
  }
  for (const [path, handler] of deps.mounts ?? []) app.use(path, handler);
  return finish(app, {
    logger: deps.logger,
    limits: { bodyBytes: deps.limits.bodyBytes, ...attachmentLimits },
  });
}

/** What a `serve --worker` process listens with: health (and the mounts, e.g. `/metrics`). */
export function createHealthApp(
  deps: Pick<IngressDeps, 'db' | 'redis' | 'logger' | 'accessLog' | 'mounts' | 'observeRequest'>,
): express.Express {
  const app = baseApp(deps);
  app.get('/healthz', liveness);
  app.get('/readyz', createReadiness(deps));
  for (const [path, handler] of deps.mounts ?? []) app.use(path, handler);
  return finish(app, { logger: deps.logger, limits: { bodyBytes: 0, bytes: 0, count: 0 } });
}

function baseApp(
  deps: Pick<IngressDeps, 'logger' | 'accessLog' | 'mounts' | 'observeRequest'>,
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (deps.observeRequest) {
    const mountPaths = (deps.mounts ?? []).map(([path]) => path);
    app.use(createRequestObserver(deps.observeRequest, mountPaths));
  }
  app.use(assignRequestId);
  if (deps.accessLog) app.use(createAccessLog(deps.logger));
  return app;
}

function finish(
  app: express.Express,
  deps: Pick<IngressDeps, 'logger'> & { limits: ErrorLimits },
): express.Express {
  app.use((req: Request, _res: Response, next: NextFunction) =>
    next(apiError('not_found', req.path)),
  );
  app.use(createErrorResponder(deps.logger, deps.limits));
  return app;
}

/**
 * One route, start to finish: authenticate, read the body, run the framework-free handler and
 * write its answer. One Express layer per route: each `next()` through the router costs CPU.
 * Errors go to the error responder.
 */
function serveRoute(
  route: Route,
  verifyToken: IngressDeps['verifyToken'],
  readBody: ReturnType<typeof createBodyReader>,
  readMessageBody: ReturnType<typeof createMessageBodyReader>,
) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (route.whmcs) markWhmcsRoute(res);
    let principal: Principal;
    try {
      principal = verifyToken(req.headers.authorization);
    } catch (error) {
      return next(error);
    }
    const run = (fields: FormMap, message?: Buffer) =>
      route
        .handler({
          principal,
          fields,
          uploads: uploadsOf(req),
          params: req.params as Record<string, string>,
          header: (name) => req.get(name),
          requestId: requestIdOf(res),
          ...(message && { message }),
        })
        .then((result) => writeJson(res, result.status, result.body, result.headers))
        .catch(next);
    if (route.rawMessage) {
      return readMessageBody(req, res, (error, message) =>
        error || !message ? next(error) : void run(new Map(), message),
      );
    }
    readBody(req, res, (error, fields) => {
      if (error || !fields) return next(error);
      void run(fields);
    });
  };
}
