import type { Db } from './connect.ts';

/** The rows `ticketflow demo` works with. */
export interface DemoSeed {
  departmentId: number;
  clientId: number;
  contactId: number;
  ticketId: number;
  ticketNum: string;
  /** Where notification email of client replies goes. */
  departmentEmail: string;
  clientEmail: string;
  contactEmail: string;
}

const DEMO_TID = 'DEMO-000001';
const DEPARTMENT_EMAIL = 'support@demo.example';
const CLIENT_EMAIL = 'client@demo.example';
const CONTACT_EMAIL = 'contact@demo.example';

/**
 * Seeds a department (with a text field, a dropdown and a tickbox), a client, a contact and an
 * open ticket. Every insert is keyed on a natural unique column, so a second run finds the
 * same rows instead of adding new ones.
 */
export async function seedDemo(db: Db): Promise<DemoSeed> {
  return db.transaction(async (trx) => {
    const upsert = async (
      table: string,
      conflict: string[],
      row: Record<string, unknown>,
    ): Promise<number> => {
      const [out] = await trx(table)
        .insert(row)
        .onConflict(conflict)
        .merge()
        .returning<{ id: number }[]>('id');
      if (!out) throw new Error(`could not seed ${table}`);
      return out.id;
    };
    const departmentId = await upsert('departments', ['name'], {
      name: 'Demo Support',
      email: DEPARTMENT_EMAIL,
    });
    // Field 1 is free text on a fresh database, so the seed's `[1 => "Google"]` sample is accepted.
    await upsert('custom_fields', ['department_id', 'name'], {
      department_id: departmentId,
      name: 'Referrer',
      type: 'text',
    });
    await upsert('custom_fields', ['department_id', 'name'], {
      department_id: departmentId,
      name: 'Plan',
      type: 'dropdown',
      options: ['Starter', 'Business', 'Enterprise'],
    });
    await upsert('custom_fields', ['department_id', 'name'], {
      department_id: departmentId,
      name: 'Urgent',
      type: 'tickbox',
    });
    const clientId = await upsert('clients', ['email'], {
      name: 'Demo Client',
      email: CLIENT_EMAIL,
    });
    const contactId = await upsert('contacts', ['client_id', 'email'], {
      client_id: clientId,
      name: 'Demo Contact',
      email: CONTACT_EMAIL,
    });
    const ticketId = await upsert('tickets', ['tid'], {
      tid: DEMO_TID,
      department_id: departmentId,
      client_id: clientId,
      contact_id: contactId,
      name: 'Demo Client',
      email: CLIENT_EMAIL,
      subject: 'My website is down',
      message: 'Since this morning the site answers 502. Can you have a look?',
    });
    return {
      departmentId,
      clientId,
      contactId,
      ticketId,
      ticketNum: DEMO_TID,
      departmentEmail: DEPARTMENT_EMAIL,
      clientEmail: CLIENT_EMAIL,
      contactEmail: CONTACT_EMAIL,
    };
  });
}
