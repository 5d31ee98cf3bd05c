import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { pino } from 'pino';
import { parseConfig, type Config } from '@ticketflow/config';
import { notificationMessageId } from '@ticketflow/contract';
import { createPgBlobStore, seedDemo, type DemoSeed } from '@ticketflow/db';
import { createRedis } from '@ticketflow/queue';
import {
  createTestDatabase,
  deletePrefix,
  redisUrl,
  uniquePrefix,
  type TestDatabase,
} from '@ticketflow/testing';
import { until } from '@ticketflow/testing/peers';
import { startWorkers } from '@ticketflow/worker';
import { openBridge, startMailListener, type Bridge, type MailListener } from '../src/index.ts';

/** The staff address the stacks configure: its mail becomes a staff reply by "Ann Admin". */
export const STAFF_ADDRESS = 'ann@help.example';
/** What the stacks read at most per message; the oversize tests send more. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export interface BridgeStack {
  config: Config;
  /** The environment a `ticketflow` child needs to reach this stack. */
  env: Record<string, string>;
  database: TestDatabase;
  seed: DemoSeed & { guestTicketId: number; guestTid: string };
  /** A second bridge process's worth of connections on the same stores, its settings changed. */
  openBridge(bridge?: Partial<Config['bridge']>): Promise<Bridge>;
  /** Listeners of the stack's own bridge, on 127.0.0.1 and port 0. */
  smtp: MailListener;
  lmtp: MailListener;
  /** Starts a listener on another bridge (its own connections): a second bridge process. */
  listen(bridge: Bridge, protocol: 'smtp' | 'lmtp'): Promise<MailListener>;
  /** Sends `mail` with nodemailer to a listener (or any port), over LMTP when `lmtp`. */
  send(listener: { port: number }, mail: SendMailOptions, lmtp?: boolean): Promise<SmtpAnswer>;
  /** A Message-ID such as a notification of `ticketId` carries, signed with the stack's key. */
  notificationId(ticketId: number): string;
  /** The stored replies of a dedupe key, once the worker stored at least one. */
  storedReplies(dedupeKey: string): Promise<StoredReplyRow[]>;
  /** The bridge's record of a message. */
  inboundEmail(dedupeKey: string): Promise<Record<string, unknown> | undefined>;
  /** A stored reply's files in order: the name each was stored under and its bytes (if kept). */
  storedAttachments(replyId: number): Promise<Array<{ name: string; bytes: Buffer | undefined }>>;
  close(): Promise<void>;
}

/** What a listener answered: the reply code and text, and the recipients it accepted. */
export interface SmtpAnswer {
  code: number;
  text: string;
  accepted: string[];
}

export interface StoredReplyRow {
  id: number;
  reply_uid: string;
  ticket_id: number;
  client_id: number | null;
  contact_id: number | null;
  name: string;
  email: string;
  admin: string;
  message: string;
  source: string;
  source_message_id: string | null;
}

/**
 * A fresh cloned database with the demo rows and a guest ticket, a unique BullMQ prefix, the
 * real workers (so posted replies are stored), and a bridge listening for SMTP and LMTP on
 * 127.0.0.1: everything `ticketflow bridge` and `serve --worker` would run.
 */
export async function startBridgeStack(): Promise<BridgeStack> {
  const database = await createTestDatabase();
  const prefix = uniquePrefix();
  const mailDir = await mkdtemp(join(tmpdir(), 'tf-bridge-mail-'));
  const demo = await seedDemo(database.db);
  const guestTid = `G-${randomBytes(3).toString('hex')}`;
  const [guest] = await database
    .db('tickets')
    .insert({
      tid: guestTid,
      department_id: demo.departmentId,
      name: 'Gina Guest',
      email: 'gina@guest.example',
      subject: 'Guest question',
    })
    .returning<{ id: number }[]>('id');
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl(),
    TICKETFLOW_QUEUE_PREFIX: prefix,
    TICKETFLOW_MAIL_SECRET: randomBytes(32).toString('hex'),
    TICKETFLOW_MAIL_DIR: mailDir,
    TICKETFLOW_MAIL_FROM: 'Help Desk <help@desk.example>',
    TICKETFLOW_BRIDGE_STAFF: `${STAFF_ADDRESS}=Ann Admin`,
    TICKETFLOW_BRIDGE_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
    TICKETFLOW_WORKER_CONCURRENCY: '4',
    TICKETFLOW_REPLY_BACKOFF_MS: '50',
    TICKETFLOW_DB_POOL_MAX: '4',
  };
  const config = parseConfig(env);
  const logger = pino({ level: 'silent' });
  const workerConnection = createRedis(config.redisUrl, 'worker');
  const observer = createRedis(config.redisUrl, 'producer');
  const workers = startWorkers({
    config,
    db: database.db,
    blobs: createPgBlobStore(database.db),
    connection: workerConnection,
    observer,
    logger,
  });
  const bridges: Bridge[] = [];
  const listeners: MailListener[] = [];
  const open = async (changes: Partial<Config['bridge']> = {}) => {
    const bridge = await openBridge(
      { ...config, bridge: { ...config.bridge, ...changes } },
      logger,
    );
    bridges.push(bridge);
    return bridge;
  };
  const listen = async (bridge: Bridge, protocol: 'smtp' | 'lmtp') => {
    const listener = await startMailListener({
      protocol,
      port: 0,
      host: '127.0.0.1',
      maxMessageBytes: bridge.settings.maxMessageBytes,
      mailbox: bridge.settings.mailbox,
      ingest: bridge.ingest,
      logger,
    });
    listeners.push(listener);
    return listener;
  };
  const own = await open();
  const smtp = await listen(own, 'smtp');
  const lmtp = await listen(own, 'lmtp');

  return {
    config,
    env,
    database,
    seed: { ...demo, guestTicketId: guest!.id, guestTid },
    openBridge: open,
    smtp,
    lmtp,
    listen,
    send: (listener, mail, lmtp = false) => send(listener.port, mail, lmtp),
    notificationId: (ticketId) =>
      notificationMessageId(
        { ticketId, replyUid: randomUUID() },
        config.mail.secret,
        'desk.example',
      ),
    storedReplies: (dedupeKey) =>
      until(`the reply of ${dedupeKey}`, async () => {
        const rows = await database
          .db('ticket_replies')
          .where({ dedupe_key: dedupeKey })
          .select<StoredReplyRow[]>('*');
        return rows.length > 0 && rows;
      }),
    inboundEmail: (dedupeKey) =>
      database.db('inbound_emails').where({ dedupe_key: dedupeKey }).first(),
    async storedAttachments(replyId) {
      const stored = await database
        .db('reply_attachments')
        .where({ reply_id: replyId })
        .orderBy('position')
        .select<{ original_name: string; sha256: string }[]>('original_name', 'sha256');
      const blobs = createPgBlobStore(database.db);
      return Promise.all(
        stored.map(async (s) => ({ name: s.original_name, bytes: await blobs.read(s.sha256) })),
      );
    },
    async close() {
      for (const listener of listeners) await listener.close();
      for (const bridge of bridges) await bridge.close();
      await workers.close(5000);
      workerConnection.disconnect();
      observer.disconnect();
      await deletePrefix(prefix);
      await database.drop();
      await rm(mailDir, { recursive: true, force: true });
    },
  };
}

/** One message through a real SMTP or LMTP client; a refusal is an answer, not an error. */
async function send(port: number, mail: SendMailOptions, lmtp: boolean): Promise<SmtpAnswer> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    lmtp,
  });
  try {
    const info = (await transport.sendMail(mail)) as { response: string; accepted: string[] };
    return {
      code: Number(info.response.slice(0, 3)),
      text: info.response,
      accepted: info.accepted,
    };
  } catch (error) {
    const e = error as { responseCode?: number; response?: string };
    return { code: e.responseCode ?? 0, text: e.response ?? String(error), accepted: [] };
  } finally {
    transport.close();
  }
}
