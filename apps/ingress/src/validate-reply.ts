import {
  apiError,
  fieldValue,
  formatBytes,
  isEmail,
  parseCreated,
  readBoolean,
  readPositiveInt,
  readText,
  readAttachments,
  readCustomFields,
  resolveCustomFields,
  type AttachmentLimits,
  type CustomFieldDefinition,
  type DecodedAttachment,
  type FormMap,
  type FormValue,
  type ReplyAuthor,
  type ReplyJob,
} from '@ticketflow/contract';
import type { TicketSummary } from '@ticketflow/db';
import type { Principal } from './principal.ts';
import type { StagedUpload } from './stage-uploads.ts';
import { readTicketRef } from './read-ticket-ref.ts';
import { mayReachTicket } from './ticket-access.ts';

/** The referential reads validation needs; one cheap indexed read each. */
export interface ReplyLookups {
  clientExists(clientId: number): Promise<boolean>;
  contactBelongsTo(contactId: number, clientId: number): Promise<boolean>;
  findStatusTitle(name: string): Promise<string | undefined>;
  listCustomFields(departmentId: number): Promise<CustomFieldDefinition[]>;
}

/** The reply as validated: everything of the job but the ids and provenance the caller adds. */
export type ReplyDraft = Pick<
  ReplyJob,
  | 'ticket'
  | 'author'
  | 'message'
  | 'markdown'
  | 'status'
  | 'noemail'
  | 'created'
  | 'customfields'
  | 'attachments'
>;

export interface ValidatedReply {
  ticket: TicketSummary;
  /** The job's fields; `attachments` holds the staged file parts so far. */
  draft: ReplyDraft;
  /** Attachments sent as base64 text, decoded and checked, still to be staged. */
  inline: DecodedAttachment[];
  warnings: string[];
}

/** Parameters of add-ticket-reply (API.md §4). Anything else is reported in `warnings`. */
const REPLY_PARAMETERS = new Set([
  'ticketid',
  'ticketnum',
  'message',
  'markdown',
  'useMarkdown',
  'clientid',
  'contactid',
  'name',
  'email',
  'adminusername',
  'status',
  'noemail',
  'created',
  'customfields',
  'attachments',
]);

/** Fields only a staff (or bridge) token may send; API.md §2. */
const STAFF_ONLY = ['adminusername', 'status', 'created'] as const;

/**
 * Validates an add-ticket-reply request in WHMCS's order (ticket → client → contact →
 * name/email → email syntax → message → status → created → customfields → attachments):
 * the first failure wins, and nothing is written by any of it.
 */
export async function validateReply(input: {
  fields: FormMap;
  /** File parts already streamed into the blob store. */
  uploads: readonly StagedUpload[];
  attachmentLimits: AttachmentLimits;
  principal: Principal;
  /** The ticket the request names, already looked up (the caller keys rate limits on it). */
  ticket: TicketSummary | undefined;
  /** Names besides the reply parameters that this endpoint reads (e.g. WHMCS `action`). */
  endpointParameters: ReadonlySet<string>;
  messageLimitBytes: number;
  now: Date;
  lookups: ReplyLookups;
}): Promise<ValidatedReply> {
  const { fields, principal, lookups } = input;
  const get = (name: string) => fieldValue(fields, name);

  if (principal.role === 'ops') throw apiError('forbidden', 'ops tokens cannot post replies');
  if (principal.role === 'client') {
    const staffField = STAFF_ONLY.find((f) => get(f) !== undefined);
    if (staffField) throw apiError('forbidden', `${staffField} requires a staff token`);
  }

  // 1. Ticket. A client token's reach is its own client's tickets; any other ticket answers
  //    exactly like a missing one, so ticket ids of other clients cannot be probed.
  readTicketRef(fields); // refuses a missing or malformed ticketid/ticketnum first
  const { ticket } = input;
  if (!ticket || !mayReachTicket(principal, ticket)) throw apiError('ticket_not_found');

  // 2. Client. A client token replies as its own client only.
  const clientidValue = get('clientid');
  let clientid =
    clientidValue === undefined ? undefined : readPositiveInt('clientid', clientidValue);
  if (principal.role === 'client') {
    if (clientid !== undefined && clientid !== principal.clientid) {
      throw apiError('forbidden', "clientid must be the token's own client");
    }
    clientid = principal.clientid;
  } else if (clientid !== undefined && !(await lookups.clientExists(clientid))) {
    throw apiError('client_not_found');
  }

  // 3. Contact: checked against clientid, or against the ticket's client when clientid is absent.
  const contactidValue = get('contactid');
  const contactid =
    contactidValue === undefined ? null : readPositiveInt('contactid', contactidValue);
  if (contactid !== null) {
    const owner = clientid ?? ticket.clientId;
    if (
      owner === null ||
      owner === undefined ||
      !(await lookups.contactBelongsTo(contactid, owner))
    ) {
      throw apiError('contact_not_found');
    }
  }

  // 4–5. Author, then name/email for guests.
  // A contact without clientid speaks for the ticket's client (the contact was checked against it).
  const authorClient =
    clientid ?? (contactid !== null ? (ticket.clientId ?? undefined) : undefined);
  const author = decideAuthor(
    principal,
    get('adminusername'),
    authorClient,
    contactid,
    get('name'),
    get('email'),
  );

  // 6. Message, then the flags read with it.
  const messageValue = fields.get('message');
  const message =
    messageValue === undefined || messageValue === null ? '' : readText('message', messageValue);
  if (message.trim() === '') throw apiError('message_required');
  if (Buffer.byteLength(message, 'utf8') > input.messageLimitBytes) {
    throw apiError(
      'payload_too_large',
      'message',
      `${formatBytes(input.messageLimitBytes)} of UTF-8`,
    );
  }
  const markdownValue = fields.get('markdown') ?? fields.get('useMarkdown');
  const markdown =
    markdownValue === undefined
      ? false
      : readBoolean(fields.has('markdown') ? 'markdown' : 'useMarkdown', markdownValue);
  const noemailValue = fields.get('noemail');
  const noemail = noemailValue === undefined ? false : readBoolean('noemail', noemailValue);

  // 7. Status: staff replies only; end-user replies always become Customer-Reply.
  const warnings: string[] = [];
  let status: string | null = null;
  const statusValue = get('status');
  if (statusValue !== undefined) {
    if (author.type !== 'staff') {
      warnings.push('status was ignored: end-user replies always set Customer-Reply');
    } else {
      const title = await lookups.findStatusTitle(readText('status', statusValue));
      if (!title) throw apiError('invalid_status');
      status = title;
    }
  }

  // 8. Created.
  let created: string | null = null;
  const createdValue = get('created');
  if (createdValue !== undefined) {
    const at = parseCreated(readText('created', createdValue));
    if (!at) throw apiError('invalid_date');
    if (at.getTime() > input.now.getTime()) throw apiError('date_in_future');
    created = at.toISOString();
  }

  // 9. Custom fields, checked against the ticket's department.
  const customInputs = readCustomFields(fields.get('customfields'));
  const customfields =
    customInputs.length === 0
      ? []
      : resolveCustomFields(customInputs, await lookups.listCustomFields(ticket.departmentId)).map(
          (f) => ({ field: f.fieldId, value: f.value }),
        );

  // 10. Attachments: file parts (already staged while the body streamed in), then the ones
  //     sent as text, which are decoded here and staged by the caller.
  const inline = readAttachments(fields.get('attachments'), input.attachmentLimits, {
    count: input.uploads.length,
    bytes: input.uploads.reduce((sum, upload) => sum + upload.size, 0),
  });

  for (const name of fields.keys()) {
    if (!REPLY_PARAMETERS.has(name) && !input.endpointParameters.has(name)) {
      warnings.push(`Unknown parameter ${JSON.stringify(name)} was ignored`);
    }
  }

  return {
    ticket,
    draft: {
      ticket: { id: ticket.id },
      author,
      message,
      markdown,
      status,
      noemail,
      created,
      customfields,
      attachments: input.uploads.map((u) => ({
        name: u.originalName,
        blob: { sha256: u.sha256, size: u.size },
      })),
    },
    inline,
    warnings,
  };
}

/**
 * Who wrote the reply (WHMCS: adminusername makes a staff reply; else a client; else a guest).
 * Staff tokens always reply as staff; bridges may speak for anyone.
 */
function decideAuthor(
  principal: Principal,
  adminusername: FormValue | undefined,
  clientid: number | undefined,
  contactid: number | null,
  name: FormValue | undefined,
  email: FormValue | undefined,
): ReplyAuthor {
  if (principal.role === 'staff' || (principal.role === 'bridge' && adminusername !== undefined)) {
    const admin =
      adminusername !== undefined
        ? readText('adminusername', adminusername).trim()
        : (principal.admin ?? principal.sub);
    return { type: 'staff', admin };
  }
  if (clientid !== undefined) return { type: 'client', clientid, contactid };
  if (name === undefined || email === undefined) throw apiError('name_email_required');
  const emailText = readText('email', email).trim();
  if (!isEmail(emailText)) throw apiError('email_invalid');
  return { type: 'guest', name: readText('name', name).trim(), email: emailText };
}
