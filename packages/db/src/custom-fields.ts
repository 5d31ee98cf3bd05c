import type { CustomFieldDefinition } from '@ticketflow/contract';
import { allOk, batchCalls } from '@ticketflow/batch';
import type { Db } from './connect.ts';

/** The custom fields of several departments in one query, answered in the order asked. */
async function listCustomFieldsOf(
  db: Db,
  departmentIds: readonly number[],
): Promise<CustomFieldDefinition[][]> {
  const rows = await db('custom_fields')
    .whereIn('department_id', [...new Set(departmentIds)])
    .orderBy('id')
    .select<
      {
        department_id: number;
        id: number;
        name: string;
        type: CustomFieldDefinition['type'];
        options: string[];
        regex: string | null;
      }[]
    >('department_id', 'id', 'name', 'type', 'options', 'regex');
  const byDepartment = new Map<number, CustomFieldDefinition[]>();
  for (const r of rows) {
    const fields = byDepartment.get(r.department_id) ?? [];
    fields.push({ id: r.id, name: r.name, type: r.type, options: r.options, regex: r.regex });
    byDepartment.set(r.department_id, fields);
  }
  return departmentIds.map((id) => byDepartment.get(id) ?? []);
}

/**
 * The custom fields of a department, what a reply's values are checked against. Concurrent
 * lookups (replies with custom fields arriving together) share one query.
 */
export function createCustomFieldLookup(
  db: Db,
): (departmentId: number) => Promise<CustomFieldDefinition[]> {
  return batchCalls(async (ids: number[]) => allOk(await listCustomFieldsOf(db, ids)));
}

/** A ticket's custom field values, as get-ticket lists them. */
export async function listCustomFieldValues(
  db: Db,
  ticketId: number,
): Promise<Array<{ id: number; name: string; value: string }>> {
  return db('custom_field_values as v')
    .join('custom_fields as f', 'f.id', 'v.field_id')
    .where('v.ticket_id', ticketId)
    .orderBy('f.id')
    .select<Array<{ id: number; name: string; value: string }>>('f.id', 'f.name', 'v.value');
}
