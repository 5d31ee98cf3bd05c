import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type express from 'express';
import { redactJobData } from '@ticketflow/contract';
import type { QueueDefinition } from '@ticketflow/queue';
import { ADMIN_PATH } from './cookies.ts';

/** Where bull-board is served; its UI builds every URL from this. */
export const BOARD_PATH = `${ADMIN_PATH}/queues`;

/** The same queues on two bull-boards: one that can change them and one that cannot. */
interface QueueBoards {
  writable: express.Express;
  readOnly: express.Express;
}

/**
 * Builds both boards over the opened catalog queues. The read-only board's adapters run in
 * bull-board's `readOnlyMode`, so its UI shows no Retry, Clean, Promote, Pause or Add buttons;
 * the access guard still refuses a read-only session's changes on its own, whichever board a
 * request reaches. Job data and return values pass through {@link redactJobData} on both.
 */
export function createQueueBoards(
  queues: ReadonlyArray<{ definition: QueueDefinition; queue: Queue }>,
): QueueBoards {
  return { writable: createBoard(queues, false), readOnly: createBoard(queues, true) };
}

function createBoard(
  queues: ReadonlyArray<{ definition: QueueDefinition; queue: Queue }>,
  readOnlyMode: boolean,
): express.Express {
  const serverAdapter = new ExpressAdapter().setBasePath(BOARD_PATH);
  createBullBoard({
    queues: queues.map(({ definition, queue }) => {
      const adapter = new BullMQAdapter(queue, {
        readOnlyMode,
        description: definition.description,
      });
      adapter.setFormatter('data', redactJobData);
      adapter.setFormatter('returnValue', redactJobData);
      return adapter;
    }),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'Ticketflow',
        hideDocsLink: true,
        // The badge says which board this session has.
        environment: readOnlyMode
          ? { label: 'read-only', color: '#5b6475' }
          : { label: 'ops:write', color: '#b3261e' },
        miscLinks: [
          { text: 'Dead letters', url: `${ADMIN_PATH}/dead-letters` },
          { text: 'Log out', url: `${ADMIN_PATH}/logout` },
        ],
      },
    },
  });
  // getRouter() is typed any (DEPENDENCIES.md): it is the adapter's own Express app.
  const app = serverAdapter.getRouter() as express.Express;
  app.disable('x-powered-by');
  return app;
}
