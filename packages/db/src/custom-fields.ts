import type { CustomFieldDefinition } from '@ticketflow/contract';
import type { Db } from './connect.ts';

/** The custom fields of a department: what a reply's values are checked against. */
export async function listCustomFields(
  db: Db,
  departmentId: number,
): Promise<CustomFieldDefinition[]> {
  const rows = await db('custom_fields')
    .where({ department_id: departmentId })
    .orderBy('id')
    .select<
      {
        id: number;
        name: string;
        type: CustomFieldDefinition['type'];
        options: string[];
        regex: string | null;
      }[]
    >('id', 'name', 'type', 'options', 'regex');
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    type: r.type,
    options: r.options,
    regex: r.regex,
  }));
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
