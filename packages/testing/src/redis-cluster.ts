import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { startRedisServer, type RedisServer } from './redis-server.ts';
import { until } from './until.ts';

/** A Redis Cluster of the test's own: masters only, each a `redis-server` child. */
export interface RedisCluster {
  /** `127.0.0.1:<port>,…` of every master: the value of REDIS_CLUSTER_NODES. */
  nodes: string;
  /** The masters, to stop or crash one. */
  servers: readonly RedisServer[];
  /** Stops every master and removes its folder. */
  close(): Promise<void>;
}

const run = promisify(execFile);
/** Creating the cluster and agreeing on its slots takes about a second; allow for a busy machine. */
const READY_WITHIN_MS = 30_000;

/**
 * Starts `masters` servers in cluster mode (no replicas, no persistence), each on a free port
 * with a free cluster-bus port (`--cluster-port`, Redis 7: the default port + 10000 may be
 * taken or past 65535), assigns the slots with `redis-cli --cluster create`, and resolves once
 * every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  const close = async () => {
    await Promise.all(servers.map((s) => s.close()));
  };
  try {
    for (let i = 0; i < masters; i++) {
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
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: READY_WITHIN_MS },
    );
    await Promise.all(servers.map((s) => untilClusterOk(s.url)));
    return { nodes: addresses.join(','), servers, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `cluster_state:ok`: the node sees every slot served (it may lag the others by a gossip round). */
async function untilClusterOk(url: string): Promise<void> {
  const node = new Redis(url, { maxRetriesPerRequest: 0 });
  node.on('error', () => {});
  try {
    await until(
      `cluster_state:ok at ${url}`,
      async () => /^cluster_state:ok\r?$/m.test(String(await node.call('CLUSTER', 'INFO'))),
      READY_WITHIN_MS,
    );
  } finally {
    node.disconnect();
  }
}
