import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@ticketflow/testing';
import { seedDemo } from './seed-demo.ts';

const database = useTestDatabase();

const SEEDED_TABLES = ['departments', 'custom_fields', 'clients', 'contacts', 'tickets'] as const;

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of SEEDED_TABLES) {
    const [row] = await database.db(table).count<{ count: string }[]>('* as count');
    counts[table] = Number(row?.count);
  }
  return counts;
}

describe('seedDemo', () => {
  it('finds the same rows on a second run instead of adding new ones', async () => {
    const first = await seedDemo(database.db);
    const counts = await rowCounts();
    expect(counts).toEqual({
      departments: 1,
      custom_fields: 3,
      clients: 1,
      contacts: 1,
      tickets: 1,
    });
    expect(await seedDemo(database.db)).toEqual(first);
    expect(await rowCounts()).toEqual(counts);
  });

  it('gives the demo department free-text field 1 named Referrer, a dropdown and a tickbox', async () => {
    const { departmentId } = await seedDemo(database.db);
    const fields = await database
      .db('custom_fields')
      .where({ department_id: departmentId })
      .orderBy('id')
      .select('id', 'name', 'type', 'options');
    expect(fields).toEqual([
      { id: 1, name: 'Referrer', type: 'text', options: [] },
      { id: 2, name: 'Plan', type: 'dropdown', options: ['Starter', 'Business', 'Enterprise'] },
      { id: 3, name: 'Urgent', type: 'tickbox', options: [] },
    ]);
  });

  it('opens the demo ticket for the demo client and its contact', async () => {
    const seed = await seedDemo(database.db);
    expect(seed.ticketNum).toBe('DEMO-000001');
    const ticket = await database
      .db('tickets')
      .where({ id: seed.ticketId })
      .first<Record<string, unknown> | undefined>(
        'tid',
        'department_id',
        'client_id',
        'contact_id',
        'status',
      );
    expect(ticket).toEqual({
      tid: seed.ticketNum,
      department_id: seed.departmentId,
      client_id: seed.clientId,
      contact_id: seed.contactId,
      status: 'Open',
    });
  });

  it('returns the addresses of the demo department, client and contact', async () => {
    const seed = await seedDemo(database.db);
    const email = async (table: string, id: number) =>
      (await database.db(table).where({ id }).first<{ email: string }>('email')).email;
    expect(seed).toMatchObject({
      departmentEmail: 'support@demo.example',
      clientEmail: await email('clients', seed.clientId),
      contactEmail: await email('contacts', seed.contactId),
    });
    expect(await email('departments', seed.departmentId)).toBe(seed.departmentEmail);
  });
});
