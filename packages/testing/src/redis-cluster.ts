import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { startRedisServer, type RedisServer } from './redis-server.ts';
import { until } from './until.ts';

/** A Redis Cluster of the test's own, each node a `redis-server` child. */
export interface RedisCluster {
  /** `127.0.0.1:<port>,…` of every node: the value of REDIS_CLUSTER_NODES. */
  nodes: string;
  /** Every node, masters first as created (a failover may change which is which). */
  servers: readonly RedisServer[];
  /** Stops every node and removes its folder. */
  close(): Promise<void>;
}

const run = promisify(execFile);
/** Creating the cluster and agreeing on its slots takes about a second; allow for a busy machine. */
const READY_WITHIN_MS = 30_000;

/**
 * Starts `masters` servers in cluster mode and `replicas` for each (no persistence), each on a
 * free port with a free cluster-bus port (`--cluster-port`, Redis 7: the default port + 10000
 * may be taken or past 65535), assigns the slots with `redis-cli --cluster create`, and
 * resolves once every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(
  options: { masters?: number; replicas?: number } = {},
): Promise<RedisCluster> {
  const { masters = 3, replicas = 0 } = options;
  const servers: RedisServer[] = [];
  const close = async () => {
    await Promise.all(servers.map((s) => s.close()));
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      servers.push(
        await startRedisServer({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-port',
            String(await freePort()),
          ],
        }),
      );
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...addresses,
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { timeout: READY_WITHIN_MS },
    );
    await Promise.all(servers.map((s) => untilFormed(s.url, masters * replicas)));
    return { nodes: addresses.join(','), servers, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * `cluster_state:ok` (the node sees every slot served), every replica known to it as one (gossip
 * lags a round or two behind `--cluster create`), and, on a replica, its link to its master up:
 * until then a planned `CLUSTER FAILOVER` would be refused.
 */
async function untilFormed(url: string, replicas: number): Promise<void> {
  const node = new Redis(url, { maxRetriesPerRequest: 0 });
  node.on('error', () => {});
  try {
    await until(
      `cluster formed at ${url}`,
      async () => {
        if (!/^cluster_state:ok\r?$/m.test(String(await node.call('CLUSTER', 'INFO')))) {
          return false;
        }
        const nodes = String(await node.call('CLUSTER', 'NODES'));
        if ((nodes.match(/ (?:myself,)?slave /g) ?? []).length !== replicas) return false;
        const replication = await node.info('replication');
        return (
          !/^role:slave\r?$/m.test(replication) || /^master_link_status:up\r?$/m.test(replication)
        );
      },
      READY_WITHIN_MS,
    );
  } finally {
    node.disconnect();
  }
}
