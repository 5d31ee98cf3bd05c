import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@ticketflow/testing';
import { createCustomFieldLookup } from './custom-fields.ts';

const database = useTestDatabase();
let sales: number;
let billing: number;
let empty: number;

async function department(name: string): Promise<number> {
  const [row] = await database
    .db('departments')
    .insert({ name, email: `${name.toLowerCase()}@example.test` })
    .returning<{ id: number }[]>('id');
  return row!.id;
}

beforeAll(async () => {
  sales = await department('Sales');
  billing = await department('Billing');
  empty = await department('Empty');
  await database.db('custom_fields').insert([
    { department_id: billing, name: 'Invoice', type: 'text', regex: '/^INV-\\d+$/' },
    { department_id: sales, name: 'Plan', type: 'dropdown', options: ['S', 'M'] },
    { department_id: sales, name: 'Agree', type: 'tickbox' },
  ]);
});

describe('createCustomFieldLookup', () => {
  it("answers each concurrent caller with its own department's fields, in id order", async () => {
    const lookup = createCustomFieldLookup(database.db);
    const [ofSales, ofBilling, ofEmpty, ofSalesAgain] = await Promise.all([
      lookup(sales),
      lookup(billing),
      lookup(empty),
      lookup(sales),
    ]);
    expect(ofSales.map((f) => [f.name, f.type, f.options])).toEqual([
      ['Plan', 'dropdown', ['S', 'M']],
      ['Agree', 'tickbox', []],
    ]);
    expect(
      ofBilling.map(({ name, type, options, regex }) => ({ name, type, options, regex })),
    ).toEqual([{ name: 'Invoice', type: 'text', options: [], regex: '/^INV-\\d+$/' }]);
    expect(ofEmpty).toEqual([]);
    expect(ofSalesAgain).toEqual(ofSales);
  });
});
