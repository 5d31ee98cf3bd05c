import { resolve } from 'node:path';
import type { Config } from '@ticketflow/config';
import { createDb, ensureDatabase, migrateLatest, seedDemo } from '@ticketflow/db';
import { signToken } from '@ticketflow/ingress';
import { signingSecret } from '../runtime.ts';

const DAY_S = 24 * 3600;

/**
 * Migrates, seeds a department, client, contact and ticket (idempotently: a second run finds
 * the same rows) and prints fresh tokens and a ready curl.
 */
export async function demo(config: Config, options: { json: boolean }): Promise<void> {
  const secret = signingSecret(config);
  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl, 1);
  let seed;
  try {
    await migrateLatest(db);
    seed = await seedDemo(db);
  } finally {
    await db.destroy();
  }
  const sign = (claims: {
    role: 'client' | 'staff' | 'ops';
    sub: string;
    clientid?: number;
    admin?: string;
    scope?: string;
  }) =>
    signToken({
      secret,
      audience: config.jwt.audience,
      issuer: config.jwt.issuer,
      ttlSeconds: DAY_S,
      ...claims,
    });
  const url = `http://127.0.0.1:${config.port}`;
  const out = {
    url,
    token: sign({ role: 'client', sub: `client-${seed.clientId}`, clientid: seed.clientId }),
    stafftoken: sign({ role: 'staff', sub: 'demo-staff', admin: 'Demo Staff' }),
    opstoken: sign({ role: 'ops', sub: 'demo-ops', scope: 'ops:write' }),
    ticketid: seed.ticketId,
    ticketnum: seed.ticketNum,
    clientid: seed.clientId,
    contactid: seed.contactId,
    deptemail: seed.departmentEmail,
    clientemail: seed.clientEmail,
    contactemail: seed.contactEmail,
  };
  if (options.json) {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  process.stdout.write(
    [
      `Demo ticket ${out.ticketnum} (ticketid ${out.ticketid}) for client ${out.clientid}, contact ${out.contactid}.`,
      '',
      `Client token (24 h): ${out.token}`,
      `Staff token  (24 h): ${out.stafftoken}`,
      `Ops token    (24 h): ${out.opstoken}`,
      '',
      'Post a reply as the client (urlencoded, as WHMCS clients do):',
      `  curl -sS ${url}/api/v2/add-ticket-reply \\`,
      `    -H 'Authorization: Bearer ${out.token}' \\`,
      `    --data-urlencode ticketid=${out.ticketid} --data-urlencode 'message=Hello from the **demo**' --data-urlencode markdown=1`,
      'Then read the ticket back:',
      `  curl -sS '${url}/api/v2/get-ticket?ticketid=${out.ticketid}' -H 'Authorization: Bearer ${out.token}'`,
      '',
      ...mailNote(config, out.deptemail),
      '',
    ].join('\n'),
  );
}

/**
 * Where the notification of the client's reply goes: the department is told by email, sent
 * over SMTP when SMTP_URL is set and otherwise written to disk, where a newcomer can open it.
 */
function mailNote(config: Config, departmentEmail: string): string[] {
  if (config.mail.smtpUrl) {
    const { host } = new URL(config.mail.smtpUrl);
    return [
      `Notification email is sent over SMTP to ${host}: the reply above notifies ${departmentEmail}.`,
    ];
  }
  const dir = resolve(config.mail.dir);
  return [
    `Notification email is written as .eml files under ${dir} (SMTP_URL is not set).`,
    `With \`ticketflow serve\` running, a .eml file for ${departmentEmail} appears there after the reply above.`,
  ];
}
