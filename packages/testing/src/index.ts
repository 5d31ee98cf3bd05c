export { createTestDatabase, useTestDatabase, type TestDatabase } from './test-database.ts';
export { uniquePrefix, deletePrefix } from './test-redis.ts';
export { adminDatabaseUrl, databaseUrl, redisUrl } from './database-urls.ts';
