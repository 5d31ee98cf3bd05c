import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@ticketflow/testing';
import {
  findReply,
  insertReplies,
  insertReply,
  listReplies,
  type NewReply,
  type StoreResult,
} from './replies.ts';

const database = useTestDatabase();
/** A department, and two clients each with one contact: the rows every reply hangs from. */
let rows: {
  departmentId: number;
  clientId: number;
  contactId: number;
  otherClientId: number;
  otherContactId: number;
};

/** Inserts one row and returns its id. */
async function insertId(table: string, row: Record<string, unknown>): Promise<number> {
  const [inserted] = await database.db(table).insert(row).returning<{ id: number }[]>('id');
  return inserted!.id;
}

beforeAll(async () => {
  const clientId = await insertId('clients', { name: 'Ada', email: 'ada@example.test' });
  const otherClientId = await insertId('clients', { name: 'Bob', email: 'bob@example.test' });
  rows = {
    departmentId: await insertId('departments', { name: 'Support', email: 'support@example.test' }),
    clientId,
    contactId: await insertId('contacts', {
      client_id: clientId,
      name: 'Ada Contact',
      email: 'c@ada.example.test',
    }),
    otherClientId,
    otherContactId: await insertId('contacts', {
      client_id: otherClientId,
      name: 'Bob Contact',
      email: 'c@bob.example.test',
    }),
  };
});

let ticketCount = 0;
/** A fresh open ticket of the first client, so each test starts from a known ticket state. */
async function newTicket(): Promise<number> {
  return insertId('tickets', {
    tid: `T-${++ticketCount}`,
    department_id: rows.departmentId,
    client_id: rows.clientId,
    contact_id: rows.contactId,
    subject: 'The site is down',
  });
}

function reply(ticketId: number, overrides: Partial<NewReply> = {}): NewReply {
  const replyUid = randomUUID();
  return {
    replyUid,
    dedupeKey: replyUid,
    ticket: { id: ticketId },
    clientId: rows.clientId,
    contactId: rows.contactId,
    name: 'Ada Contact',
    email: 'c@ada.example.test',
    admin: '',
    message: 'hello',
    messageHtml: '<p>hello</p>',
    notify: null,
    requestId: null,
    editor: 'plain',
    createdAt: new Date('2030-01-02T03:04:05.000Z'),
    source: 'api',
    sourcePrincipal: 'client-1',
    sourceMessageId: null,
    receivedAt: new Date(),
    ticketStatus: 'Customer-Reply',
    customFields: [],
    attachments: [],
    ...overrides,
  };
}

async function repliesWithKey(dedupeKey: string): Promise<number> {
  const [row] = await database
    .db('ticket_replies')
    .where({ dedupe_key: dedupeKey })
    .count<{ count: string }[]>('* as count');
  return Number(row?.count);
}

async function ticketRow(
  ticketId: number,
): Promise<{ status: string; last_reply_at: Date | null }> {
  const row = await database
    .db('tickets')
    .where({ id: ticketId })
    .first<{ status: string; last_reply_at: Date | null } | undefined>('status', 'last_reply_at');
  return row!;
}

function outcomesOf(results: ReadonlyArray<StoreResult | undefined>): string[] {
  return results.map((r) => r?.outcome ?? 'no ticket');
}

describe('insertReply', () => {
  it('stores one row when the same dedupe key arrives twice, and reports the second as a duplicate', async () => {
    const ticketId = await newTicket();
    const first = reply(ticketId);
    expect((await insertReply(database.db, first))?.outcome).toBe('inserted');
    expect(
      (await insertReply(database.db, { ...first, replyUid: randomUUID(), message: 'again' }))
        ?.outcome,
    ).toBe('duplicate');
    expect(await repliesWithKey(first.dedupeKey)).toBe(1);
    expect((await findReply(database.db, first.replyUid))?.message).toBe('hello');
  });

  it('lets exactly one of five concurrent inserts of the same dedupe key win', async () => {
    const ticketId = await newTicket();
    const dedupeKey = `email:support:${randomUUID()}@mail.example.test`;
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () =>
        insertReply(database.db, reply(ticketId, { replyUid: randomUUID(), dedupeKey })),
      ),
    );
    expect(outcomesOf(outcomes).filter((o) => o === 'inserted')).toHaveLength(1);
    expect(outcomesOf(outcomes).filter((o) => o === 'duplicate')).toHaveLength(4);
    expect(await repliesWithKey(dedupeKey)).toBe(1);
  });

  it("moves the ticket's status and last reply time with the reply", async () => {
    const ticketId = await newTicket();
    const createdAt = new Date('2030-05-06T07:08:09.000Z');
    await insertReply(database.db, reply(ticketId, { createdAt, ticketStatus: 'Answered' }));
    expect(await ticketRow(ticketId)).toEqual({ status: 'Answered', last_reply_at: createdAt });
  });

  it("does not move the ticket's last reply time backwards for a backdated reply", async () => {
    const ticketId = await newTicket();
    const latest = new Date('2030-05-06T07:08:09.000Z');
    await insertReply(
      database.db,
      reply(ticketId, { createdAt: latest, ticketStatus: 'Answered' }),
    );
    await insertReply(
      database.db,
      reply(ticketId, {
        createdAt: new Date('2029-01-01T00:00:00.000Z'),
        ticketStatus: 'Customer-Reply',
      }),
    );
    expect(await ticketRow(ticketId)).toEqual({ status: 'Customer-Reply', last_reply_at: latest });
  });

  it('refuses a contact of another client through the composite foreign key and stores nothing', async () => {
    const ticketId = await newTicket();
    const stray = reply(ticketId, { contactId: rows.otherContactId, ticketStatus: 'Answered' });
    await expect(insertReply(database.db, stray)).rejects.toMatchObject({ code: '23503' });
    expect(await repliesWithKey(stray.dedupeKey)).toBe(0);
    expect(await ticketRow(ticketId)).toEqual({ status: 'Open', last_reply_at: null });
  });
});

describe('insertReplies (group commit)', () => {
  it('stores each dedupe key once: a later copy in the batch and a key stored before are duplicates', async () => {
    const ticketId = await newTicket();
    const stored = reply(ticketId);
    await insertReply(database.db, stored);
    const a = reply(ticketId, { message: 'a' });
    const b = reply(ticketId, { message: 'b' });
    const outcomes = outcomesOf(
      await insertReplies(database.db, [
        a,
        b,
        { ...a, replyUid: randomUUID(), message: 'a again' },
        { ...stored, replyUid: randomUUID() },
      ]),
    );
    expect(outcomes).toEqual(['inserted', 'inserted', 'duplicate', 'duplicate']);
    expect((await findReply(database.db, a.replyUid))?.message).toBe('a');
    expect(await repliesWithKey(a.dedupeKey)).toBe(1);
    expect(await repliesWithKey(stored.dedupeKey)).toBe(1);
  });

  it("sets each ticket's status from its last reply in the batch and its last reply time from the latest", async () => {
    const [first, second] = [await newTicket(), await newTicket()];
    const late = new Date('2030-07-01T00:00:00.000Z');
    await insertReplies(database.db, [
      reply(second, { ticketStatus: 'Answered', createdAt: new Date('2030-06-01T00:00:00.000Z') }),
      reply(first, { ticketStatus: 'Answered', createdAt: late }),
      reply(first, {
        ticketStatus: 'Customer-Reply',
        createdAt: new Date('2030-01-01T00:00:00.000Z'),
      }),
      reply(second, { ticketStatus: 'Customer-Reply', createdAt: late }),
    ]);
    expect(await ticketRow(first)).toEqual({ status: 'Customer-Reply', last_reply_at: late });
    expect(await ticketRow(second)).toEqual({ status: 'Customer-Reply', last_reply_at: late });
  });

  it("stores each reply's attachments in order and its ticket's custom fields, the batch's last value winning", async () => {
    const ticketId = await newTicket();
    const sha256 = 'a'.repeat(64);
    await database.db('attachment_blobs').insert({
      sha256,
      upload_id: randomUUID(),
      size: 0,
      content_type: 'text/plain',
    });
    const fieldId = await insertId('custom_fields', {
      department_id: rows.departmentId,
      name: 'Domain',
      type: 'text',
    });
    const attachment = (name: string) => ({
      storedName: `000001_${name}`,
      originalName: name,
      sha256,
    });
    const one = reply(ticketId, {
      attachments: [attachment('a.txt'), attachment('b.txt')],
      customFields: [{ fieldId: fieldId, value: 'first.example' }],
    });
    const two = reply(ticketId, {
      attachments: [attachment('c.txt')],
      customFields: [{ fieldId: fieldId, value: 'second.example' }],
    });
    const copy = {
      ...one,
      replyUid: randomUUID(),
      customFields: [{ fieldId: fieldId, value: 'copy.example' }],
    };
    expect(outcomesOf(await insertReplies(database.db, [one, two, copy]))).toEqual([
      'inserted',
      'inserted',
      'duplicate',
    ]);
    const names = await database
      .db('reply_attachments as a')
      .join('ticket_replies as r', 'r.id', 'a.reply_id')
      .where('r.ticket_id', ticketId)
      .orderBy(['r.id', 'a.position'])
      .select('r.reply_uid', 'a.position', 'a.original_name');
    expect(names).toEqual([
      { reply_uid: one.replyUid, position: 0, original_name: 'a.txt' },
      { reply_uid: one.replyUid, position: 1, original_name: 'b.txt' },
      { reply_uid: two.replyUid, position: 0, original_name: 'c.txt' },
    ]);
    expect(
      await database
        .db('custom_field_values')
        .where({ ticket_id: ticketId })
        .select('field_id', 'value'),
    ).toEqual([{ field_id: fieldId, value: 'second.example' }]);
  });

  it('stores a lone UTF-16 surrogate as U+FFFD, as a bound parameter did', async () => {
    const ticketId = await newTicket();
    const lone = reply(ticketId, { message: 'broken \ud800 emoji' });
    expect(outcomesOf(await insertReplies(database.db, [lone, reply(ticketId)]))).toEqual([
      'inserted',
      'inserted',
    ]);
    expect((await findReply(database.db, lone.replyUid))?.message).toBe('broken \ufffd emoji');
  });

  it('stores nothing of a batch when one of its replies is refused', async () => {
    const ticketId = await newTicket();
    const good = reply(ticketId, { ticketStatus: 'Answered' });
    const stray = reply(ticketId, { contactId: rows.otherContactId });
    await expect(insertReplies(database.db, [good, stray])).rejects.toMatchObject({
      code: '23503',
    });
    expect(await repliesWithKey(good.dedupeKey)).toBe(0);
    expect(await ticketRow(ticketId)).toEqual({ status: 'Open', last_reply_at: null });
  });
  it('stores a reply to a ticket named by its number', async () => {
    const ticketId = await newTicket();
    const { tid } = await database
      .db('tickets')
      .where({ id: ticketId })
      .first<{ tid: string }>('tid');
    const byNumber = reply(ticketId, { ticket: { num: tid } });
    expect(outcomesOf(await insertReplies(database.db, [byNumber]))).toEqual(['inserted']);
    expect((await findReply(database.db, byNumber.replyUid))?.ticketId).toBe(ticketId);
  });

  it('answers undefined for a reply whose ticket does not exist, stores nothing of it, and commits the rest', async () => {
    const ticketId = await newTicket();
    const good = reply(ticketId, { ticketStatus: 'Answered' });
    const lost = reply(ticketId, { ticket: { id: 999_999 }, notify: 'department' });
    const unknownNumber = reply(ticketId, { ticket: { num: 'NO-SUCH-TICKET' } });
    const results = await insertReplies(database.db, [
      lost,
      good,
      unknownNumber,
      { ...lost, replyUid: randomUUID() },
    ]);
    expect(outcomesOf(results)).toEqual(['no ticket', 'inserted', 'no ticket', 'no ticket']);
    expect(await repliesWithKey(lost.dedupeKey)).toBe(0);
    expect(await repliesWithKey(unknownNumber.dedupeKey)).toBe(0);
    expect(await ticketRow(ticketId)).toEqual({
      status: 'Answered',
      last_reply_at: good.createdAt,
    });
    expect(await insertReply(database.db, { ...lost, replyUid: randomUUID() })).toBeUndefined();
  });
});

describe('listReplies', () => {
  it('lists replies by creation time, oldest first for asc and newest first for desc', async () => {
    const ticketId = await newTicket();
    const middle = reply(ticketId, { createdAt: new Date('2030-01-02T00:00:00.000Z') });
    const last = reply(ticketId, { createdAt: new Date('2030-01-03T00:00:00.000Z') });
    const first = reply(ticketId, { createdAt: new Date('2030-01-01T00:00:00.000Z') });
    // Stored out of order, so the order below comes from created_at and not from insertion.
    for (const r of [middle, last, first]) await insertReply(database.db, r);
    const expected = [first.replyUid, middle.replyUid, last.replyUid];
    expect((await listReplies(database.db, ticketId, 'asc')).map((r) => r.replyUid)).toEqual(
      expected,
    );
    expect((await listReplies(database.db, ticketId, 'desc')).map((r) => r.replyUid)).toEqual(
      expected.reverse(),
    );
  });

  it('orders replies with the same creation time by the order they were stored', async () => {
    const ticketId = await newTicket();
    const createdAt = new Date('2030-01-01T00:00:00.000Z');
    const a = reply(ticketId, { createdAt });
    const b = reply(ticketId, { createdAt });
    await insertReply(database.db, a);
    await insertReply(database.db, b);
    expect((await listReplies(database.db, ticketId, 'asc')).map((r) => r.replyUid)).toEqual([
      a.replyUid,
      b.replyUid,
    ]);
    expect((await listReplies(database.db, ticketId, 'desc')).map((r) => r.replyUid)).toEqual([
      b.replyUid,
      a.replyUid,
    ]);
  });

  it('lists nothing for a ticket without replies', async () => {
    expect(await listReplies(database.db, await newTicket(), 'asc')).toEqual([]);
  });
});

describe('findReply', () => {
  it('finds a stored reply by its reply id, with its ticket', async () => {
    const ticketId = await newTicket();
    const stored = reply(ticketId, {
      editor: 'markdown',
      message: '**hi**',
      messageHtml: '<p><strong>hi</strong></p>',
    });
    await insertReply(database.db, stored);
    const found = await findReply(database.db, stored.replyUid);
    expect(found).toMatchObject({
      replyUid: stored.replyUid,
      ticketId,
      clientId: rows.clientId,
      contactId: rows.contactId,
      name: 'Ada Contact',
      email: 'c@ada.example.test',
      admin: '',
      message: '**hi**',
      messageHtml: '<p><strong>hi</strong></p>',
      editor: 'markdown',
      createdAt: stored.createdAt,
      sourcePrincipal: 'client-1',
    });
    expect(found?.persistedAt).toBeInstanceOf(Date);
  });

  it('finds nothing for an unknown reply id', async () => {
    expect(await findReply(database.db, randomUUID())).toBeUndefined();
  });
});

describe('the outbox rows a reply commits with', () => {
  async function endpoint(events: string[], enabled = true): Promise<number> {
    const [row] = await database
      .db('webhook_endpoints')
      .insert({ url: 'https://hooks.example.test/in', secret: 'whsec_x', events, enabled })
      .returning<{ id: number }[]>('id');
    return row!.id;
  }

  it('writes one email row and one row per enabled endpoint subscribed to the event', async () => {
    const subscribed = await endpoint(['ticket.reply.created']);
    await endpoint(['ticket.reply.created'], false);
    await endpoint(['ticket.closed']);
    try {
      const ticketId = await newTicket();
      const r = reply(ticketId, { notify: 'department', ticketStatus: 'Answered' });
      const [result] = await insertReplies(database.db, [r]);
      expect(result!.outcome).toBe('inserted');
      expect(result!.notifications.map((n) => n.channel).sort()).toEqual(['email', 'webhook']);
      const rows = await database
        .db('outbox')
        .whereIn(
          'id',
          result!.notifications.map((n) => n.outboxId),
        )
        .select('channel', 'recipient', 'endpoint_id', 'status_before', 'status_after', 'event');
      expect(rows).toEqual(
        expect.arrayContaining([
          {
            channel: 'email',
            recipient: 'support@example.test',
            endpoint_id: null,
            status_before: 'Open',
            status_after: 'Answered',
            event: 'ticket.reply.created',
          },
          {
            channel: 'webhook',
            recipient: null,
            endpoint_id: subscribed,
            status_before: 'Open',
            status_after: 'Answered',
            event: 'ticket.reply.created',
          },
        ]),
      );
      expect(rows).toHaveLength(2);
    } finally {
      await database.db('webhook_endpoints').delete();
    }
  });

  it('gives each reply of a batch on one ticket the status the reply before it left', async () => {
    const ticketId = await newTicket();
    const first = reply(ticketId, { notify: 'department', ticketStatus: 'Answered' });
    const second = reply(ticketId, { notify: 'department', ticketStatus: 'On Hold' });
    const results = await insertReplies(database.db, [first, second]);
    const before = await database
      .db('outbox')
      .whereIn(
        'id',
        results.flatMap((r) => r?.notifications.map((n) => n.outboxId) ?? []),
      )
      .orderBy('status_after')
      .select('status_before', 'status_after');
    expect(before).toEqual([
      { status_before: 'Open', status_after: 'Answered' },
      { status_before: 'Answered', status_after: 'On Hold' },
    ]);
  });

  it('writes no outbox row for a duplicate, nor for a reply without an email', async () => {
    const ticketId = await newTicket();
    const r = reply(ticketId, { notify: 'department' });
    await insertReply(database.db, r);
    const again = await insertReply(database.db, { ...r, replyUid: randomUUID() });
    expect(again).toEqual({ outcome: 'duplicate', notifications: [] });
    const silent = await insertReply(database.db, reply(ticketId, { notify: null }));
    expect(silent).toEqual({ outcome: 'inserted', notifications: [] });
    const [count] = await database
      .db('outbox')
      .where({ ticket_id: ticketId })
      .count<{ count: string }[]>('* as count');
    expect(Number(count!.count)).toBe(1);
  });

  it("addresses the email from the ticket: its department's, or its requester's", async () => {
    const guestTicket = await insertId('tickets', {
      tid: `T-${++ticketCount}`,
      department_id: rows.departmentId,
      email: 'guest@example.test',
      subject: 'A guest asks',
    });
    const clientTicket = await insertId('tickets', {
      tid: `T-${++ticketCount}`,
      department_id: rows.departmentId,
      client_id: rows.clientId,
      subject: 'A client asks',
    });
    const contactTicket = await newTicket();
    const cases: Array<[number, NewReply['notify'], string]> = [
      [contactTicket, 'department', 'support@example.test'],
      [contactTicket, 'requester', 'c@ada.example.test'],
      [clientTicket, 'requester', 'ada@example.test'],
      [guestTicket, 'requester', 'guest@example.test'],
    ];
    const sent = cases.map(([ticketId, notify]) => reply(ticketId, { notify }));
    const results = await insertReplies(database.db, sent);
    const recipients = await Promise.all(
      results.map(async (result) => {
        const [ref] = result!.notifications;
        const row = await database
          .db('outbox')
          .where({ id: ref!.outboxId })
          .first<{ recipient: string }>('recipient');
        return row.recipient;
      }),
    );
    expect(recipients).toEqual(cases.map(([, , recipient]) => recipient));
  });

  it('writes no email row when the address it would go to is empty', async () => {
    const quietDepartment = await insertId('departments', { name: 'Quiet', email: '' });
    const quietTicket = await insertId('tickets', {
      tid: `T-${++ticketCount}`,
      department_id: quietDepartment,
      subject: 'Nobody to tell',
    });
    const results = await insertReplies(database.db, [
      reply(quietTicket, { notify: 'department', clientId: null, contactId: null }),
      reply(quietTicket, { notify: 'requester', clientId: null, contactId: null }),
    ]);
    expect(results).toEqual([
      { outcome: 'inserted', notifications: [] },
      { outcome: 'inserted', notifications: [] },
    ]);
  });

  it('writes no outbox row when the reply itself is refused (one statement, all or nothing)', async () => {
    const ticketId = await newTicket();
    const stray = reply(ticketId, {
      clientId: 999_999,
      contactId: null,
      notify: 'department',
    });
    await expect(insertReply(database.db, stray)).rejects.toMatchObject({ code: '23503' });
    const [count] = await database
      .db('outbox')
      .where({ ticket_id: ticketId })
      .count<{ count: string }[]>('* as count');
    expect(Number(count!.count)).toBe(0);
  });
});
