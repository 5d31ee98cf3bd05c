/** Where tests reach PostgreSQL as a superuser, to create and drop their databases. */
export function adminDatabaseUrl(): string {
  return process.env.TICKETFLOW_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** The same server, another database. */
export function databaseUrl(name: string): string {
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export function redisUrl(): string {
  return process.env.TICKETFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}
