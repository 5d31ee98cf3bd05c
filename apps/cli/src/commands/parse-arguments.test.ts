import { describe, expect, it } from 'vitest';
import { jobCatalog, catalogQueues } from '@ticketflow/queue';
import { parseAge, parseId, parseLimit, parseNameList, parseQueueName } from './parse-arguments.ts';
import { UsageError } from './usage-error.ts';

const QUEUES = catalogQueues(
  jobCatalog({
    worker: { attempts: 1, backoffMs: 1 },
    mail: { attempts: 1, backoffMs: 1 },
    webhooks: { scheduleMs: [] },
  }),
);

describe('parseId', () => {
  it('takes a plain positive integer up to PostgreSQL integer', () => {
    expect(parseId('42', 'the id')).toBe(42);
    expect(parseId('2147483647', 'the id')).toBe(2_147_483_647);
  });

  it.for(['0', '-1', '01', '1e3', '1.5', ' 7', '2147483648', 'abc', ''])(
    'refuses "%s" as a usage error naming what it is',
    (text) => {
      expect(() => parseId(text, 'the dead letter id')).toThrow(
        new UsageError(`the dead letter id must be a positive integer, got "${text}"`),
      );
    },
  );
});

describe('parseLimit', () => {
  it('takes 1 to the maximum and refuses the rest', () => {
    expect(parseLimit('20', 1000)).toBe(20);
    for (const text of ['0', '1001', 'ten']) {
      expect(() => parseLimit(text, 1000)).toThrow(UsageError);
    }
  });
});

describe('parseAge', () => {
  it('reads days, hours and minutes as milliseconds', () => {
    expect(parseAge('30d', '--older-than')).toBe(30 * 86_400_000);
    expect(parseAge('12h', '--older-than')).toBe(12 * 3_600_000);
    expect(parseAge('90m', '--older-than')).toBe(90 * 60_000);
  });

  it.for(['30', '0d', '2w', '1.5d', 'd', '30 d'])('refuses "%s"', (text) => {
    expect(() => parseAge(text, '--older-than')).toThrow(UsageError);
  });
});

describe('parseQueueName', () => {
  it('answers the catalog queue, and names every queue when there is none of that name', () => {
    expect(parseQueueName('notifications', QUEUES).name).toBe('notifications');
    expect(() => parseQueueName('emails', QUEUES)).toThrow(
      '--queue: unknown queue "emails"; the queues are replies, notifications, maintenance',
    );
  });
});

describe('parseNameList', () => {
  const known = ['ticket.reply.created'];

  it('splits on commas, trims, and drops blanks and duplicates', () => {
    expect(
      parseNameList(' ticket.reply.created,,ticket.reply.created ', known, '--events'),
    ).toEqual(known);
  });

  it('refuses an unknown name, naming the known ones', () => {
    expect(() => parseNameList('ticket.reply.created,ticket.closed', known, '--events')).toThrow(
      new UsageError('--events: unknown: ticket.closed; known: ticket.reply.created'),
    );
  });

  it('refuses an empty list', () => {
    expect(() => parseNameList(' , ', known, '--events')).toThrow(
      '--events: nothing given; known: ticket.reply.created',
    );
  });
});
