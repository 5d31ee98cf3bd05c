export { openBridge, type Bridge } from './open-bridge.ts';
export { bridgeSettings, type BridgeSettings } from './bridge-settings.ts';
export {
  createMailIngest,
  type MailIngest,
  type MailIngestDeps,
  type MailDelivery,
} from './ingest-mail.ts';
export type { MailOutcome, DropReason, RefusalReason } from './mail-outcome.ts';
export { startMailListener, type MailListener, type MailListenerOptions } from './mail-listener.ts';
export { ingestStream, EXIT_DELIVERED, EXIT_REFUSED, EXIT_RETRY } from './ingest-stream.ts';
