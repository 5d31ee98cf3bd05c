import type { Config } from '@ticketflow/config';
import { withoutCredentials } from './doctor-checks.ts';

/**
 * Where the service looks for Redis, for messages people paste into tickets: REDIS_URL
 * without credentials, or the seed nodes of REDIS_CLUSTER_NODES.
 */
export function redisLocation(config: Pick<Config, 'redisUrl' | 'redisClusterNodes'>): string {
  if (config.redisClusterNodes.length === 0) return withoutCredentials(config.redisUrl);
  const seeds = config.redisClusterNodes.map(({ host, port }) =>
    host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
  );
  return `Redis Cluster ${seeds.join(',')}`;
}
