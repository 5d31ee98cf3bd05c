export { openBridge, type Bridge } from './open-bridge.ts';
export { bridgeSettings, type BridgeSettings } from './bridge-settings.ts';
export { createMailIngest, type MailIngest } from './ingest-mail.ts';
export { startMailListener, type MailListener } from './mail-listener.ts';
export { ingestStream, EXIT_RETRY } from './ingest-stream.ts';
export { MAIL_OUTCOMES, type ObserveMail } from './mail-outcome.ts';
