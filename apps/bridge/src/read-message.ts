import PostalMime, { addressParser, type Address } from 'postal-mime';

/** One file of a message, attached or inline. */
export interface MailPart {
  /** The name the message gives it, or null. */
  filename: string | null;
  mimeType: string;
  bytes: Uint8Array;
}

/** A parsed message: what matching, author rules and the reply need of it. */
export interface InboundMessage {
  /** The Message-ID header as written, trimmed. */
  messageId: string | undefined;
  /** The first From mailbox; the address in lower case. */
  from: { name: string; address: string } | undefined;
  /**
   * Mailboxes named by every From header together. Anything but 1 is ambiguous: a signature
   * checks one From while a reader may show another (a second header added on top, say).
   */
  fromCount: number;
  subject: string;
  inReplyTo: string | undefined;
  /** Ids named by In-Reply-To, then by References from the newest: the order they are tried. */
  referencedIds: string[];
  /** The top-level Content-Type (bounces are `multipart/report`). */
  contentType: string;
  /** A header's first value, by case-insensitive name. */
  header(name: string): string | undefined;
  /** Every Authentication-Results value, topmost (added last, by our MTA) first. */
  authenticationResults: string[];
  text: string | undefined;
  html: string | undefined;
  attachments: MailPart[];
}

/**
 * Parses raw RFC 822 bytes with postal-mime. It never throws on malformed mail (it reads what it
 * can); the caller decides what is missing.
 */
export async function readMessage(raw: Uint8Array): Promise<InboundMessage> {
  const email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
  const headers = new Map<string, string>();
  for (const h of email.headers) if (!headers.has(h.key)) headers.set(h.key, h.value);
  const inReplyTo = email.inReplyTo?.trim() || undefined;
  const references = messageIds(email.references ?? '').reverse();
  return {
    messageId: email.messageId?.trim() || undefined,
    from: firstMailbox(email.from),
    fromCount: email.headers
      .filter((h) => h.key === 'from')
      .reduce((count, h) => count + mailboxes(addressParser(h.value)), 0),
    subject: email.subject ?? '',
    inReplyTo,
    referencedIds: [...new Set([...messageIds(inReplyTo ?? ''), ...references])],
    contentType: headers.get('content-type') ?? '',
    header: (name) => headers.get(name.toLowerCase()),
    authenticationResults: email.headers
      .filter((h) => h.key === 'authentication-results')
      .map((h) => h.value),
    text: email.text,
    html: email.html,
    attachments: email.attachments.map((a) => ({
      filename: a.filename,
      mimeType: a.mimeType,
      bytes:
        typeof a.content === 'string'
          ? new TextEncoder().encode(a.content)
          : new Uint8Array(a.content),
    })),
  };
}

/** `<a@x> <b@y>` → the ids with their brackets; a bare id (clients that drop them) as it is. */
function messageIds(text: string): string[] {
  const bracketed = text.match(/<[^<>\s]+>/g);
  if (bracketed) return bracketed;
  return text.split(/\s+/).filter((id) => id.includes('@'));
}

function mailboxes(addresses: Address[]): number {
  return addresses.reduce((n, a) => n + (a.group ? a.group.length : 1), 0);
}

function firstMailbox(from: Address | undefined): InboundMessage['from'] {
  const mailbox = from?.group ? from.group[0] : from;
  const address = mailbox?.address?.trim().toLowerCase();
  return mailbox && address ? { name: mailbox.name.trim(), address } : undefined;
}
