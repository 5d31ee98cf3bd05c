import type { Config } from '@ticketflow/config';
import type { AttachmentLimits } from '@ticketflow/contract';

/** What the bridge decides with, read once from the configuration. */
export interface BridgeSettings {
  /** The mailbox name in dedupe keys, unless a delivery names another (`ingest --mailbox`). */
  mailbox: string;
  /** Case-insensitive; its first capture group is the ticket number. */
  subjectTag: RegExp;
  /** Lower-case addresses whose mail becomes a staff reply, each with its display name. */
  staff: ReadonlyArray<{ address: string; name: string | undefined }>;
  allowStrangers: boolean;
  /**
   * Our MTA's authserv-id: given, a sender is posted only when that MTA's Authentication-Results
   * header vouches for the From domain. Undefined: the From header is taken as delivered.
   */
  authservId: string | undefined;
  maxMessageBytes: number;
  /** HMAC key of notification Message-IDs: only ids it verifies name a ticket. */
  mailSecret: string;
  /** The same attachment rules the HTTP path applies. */
  attachments: AttachmentLimits;
  /** Largest reply text, in UTF-8 bytes. */
  messageBytes: number;
}

/** The bridge's settings from the service configuration (the same one `serve` reads). */
export function bridgeSettings(config: Pick<Config, 'bridge' | 'mail' | 'limits'>): BridgeSettings {
  return {
    mailbox: config.bridge.mailbox,
    // Checked by parseConfig: it compiles and has a capture group. No `g` flag, so matching
    // keeps no state between messages.
    subjectTag: new RegExp(config.bridge.subjectTag, 'i'),
    staff: config.bridge.staff,
    allowStrangers: config.bridge.allowStrangers,
    authservId: config.bridge.authservId,
    maxMessageBytes: config.bridge.maxMessageBytes,
    mailSecret: config.mail.secret,
    attachments: {
      count: config.limits.attachments,
      bytes: config.limits.attachmentBytes,
      totalBytes: config.limits.attachmentsTotalBytes,
      extensions: config.limits.attachmentExtensions,
    },
    messageBytes: config.limits.messageBytes,
  };
}
