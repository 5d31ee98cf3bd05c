import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import { apiError } from '@ticketflow/contract';
import type { Db, StoredDeadLetter } from '@ticketflow/db';
import type { Principal } from '@ticketflow/ingress';
import {
  catalogQueues,
  openQueue,
  type JobCatalog,
  type QueueDefinition,
  type RedisClient,
} from '@ticketflow/queue';
import { createAccessGuard, sessionOf } from './access-guard.ts';
import { ADMIN_PATH } from './cookies.ts';
import { createReplayDeadLetterRoute, createShowDeadLetters } from './dead-letters.ts';
import { createLogIn, logOut, showLogin, showLogout } from './login.ts';
import { BOARD_PATH, createQueueBoards } from './queue-boards.ts';
import { securityHeaders } from './security-headers.ts';
import { createXsrfTokens } from './xsrf-token.ts';

/**
 * The replay of `ticketflow dlq replay` (`replayDeadLetter` of @ticketflow/worker), given the
 * dashboard's own queues.
 */
export type ReplayDeadLetter = (
  db: Db,
  queueFor: (definition: QueueDefinition) => Queue,
  catalog: JobCatalog,
  letter: StoredDeadLetter,
) => Promise<string>;

export interface DashboardDeps {
  /** The job catalog: the boards show every one of its queues. */
  catalog: JobCatalog;
  /** A producer connection: the boards only read and, for `ops:write`, retry or clean. */
  connection: RedisClient;
  queuePrefix: string;
  db: Db;
  /** The API's own verifier (`createTokenVerifier`), so the same tokens and rules apply. */
  verifyToken: (authorization: string | undefined) => Principal;
  /**
   * Key material every ingress process shares (the JWT secret, or the public key file's
   * contents): the XSRF key is derived from it, so any process accepts any session's token.
   */
  xsrfSecret: string;
  /** The Replay button of the dead letters page. */
  replayDeadLetter: ReplayDeadLetter;
  logger: { warn(fields: Record<string, unknown>, message: string): void };
}

export interface Dashboard {
  /** Mount the router here: the cookies and bull-board's URLs assume it. */
  path: typeof ADMIN_PATH;
  router: express.Router;
  /** Closes the queues the boards opened. */
  close(): Promise<void>;
}

/**
 * The ops dashboard (issue 14): bull-board over every catalog queue at `/admin/queues`, our
 * dead letters page at `/admin/dead-letters`, and the login that puts both behind ops tokens.
 * Errors go to the ingress error responder, the one writer of `{"result":"error",…}`.
 */
export function createDashboard(deps: DashboardDeps): Dashboard {
  const opened = catalogQueues(deps.catalog).map((definition) => {
    const queue = openQueue(definition, deps.connection, deps.queuePrefix);
    queue.on('error', (error) =>
      deps.logger.warn({ err: error.message, queue: definition.name }, 'dashboard: Redis error'),
    );
    return { definition, queue };
  });
  const boards = createQueueBoards(opened);
  const xsrf = createXsrfTokens(deps.xsrfSecret);
  const queueFor = (definition: QueueDefinition): Queue => {
    const found = opened.find((o) => o.definition.name === definition.name);
    if (!found) throw new Error(`queue ${definition.name} is not in the dashboard's catalog`);
    return found.queue;
  };

  const router = express.Router();
  router.use(securityHeaders);
  router.get('/login', showLogin);
  router.post(
    '/login',
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 10 }),
    createLogIn({ verifyToken: deps.verifyToken, xsrf }),
  );
  router.use(createAccessGuard({ verifyToken: deps.verifyToken, xsrf }));
  router.get('/', (_req, res) => res.redirect(303, BOARD_PATH));
  router.get('/logout', showLogout);
  router.post('/logout', logOut);
  router.get('/dead-letters', createShowDeadLetters(deps.db));
  router.post(
    '/dead-letters/:id/replay',
    createReplayDeadLetterRoute(deps.db, (letter) =>
      deps.replayDeadLetter(deps.db, queueFor, deps.catalog, letter),
    ),
  );
  router.post('/queues/api/queues/:queueName/add', refuseRedactedWrite);
  router.patch('/queues/api/queues/:queueName/:jobId/update-data', refuseRedactedWrite);
  // Each session is routed to its board: only ops:write sessions ever reach the writable one.
  router.use('/queues', (req: Request, res: Response, next: NextFunction) =>
    (sessionOf(res).canWrite ? boards.writable : boards.readOnly)(req, res, next),
  );
  return {
    path: ADMIN_PATH,
    router,
    close: async () => {
      await Promise.all(opened.map(({ queue }) => queue.close()));
    },
  };
}

/**
 * bull-board's Duplicate and Edit buttons send back the job data the browser holds, which is
 * redacted: a reply stored from it would read "[redacted: 37 chars]". Jobs are added by the
 * ingress and bridges, and replayed by `dlq replay`, from the real payload.
 */
function refuseRedactedWrite(_req: Request, _res: Response, next: NextFunction): void {
  next(
    apiError(
      'forbidden',
      'the dashboard shows job data redacted, so it cannot add or edit jobs; replay dead letters instead',
    ),
  );
}
