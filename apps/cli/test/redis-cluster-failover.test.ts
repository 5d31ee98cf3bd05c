import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, until, type RedisCluster } from '@ticketflow/testing/peers';
import { startNotifyingStack, type NotifyingStack, type ServeChild } from './notifying-stack.ts';
import { useCliFixture } from './run-cli.ts';

// A planned failover of the master that holds Ticketflow's slot (CLUSTER FAILOVER on its
// replica, which first catches up with the master, so no write is lost) while an ingress and a
// worker run on the cluster: both must follow the slot to the new master by themselves.
const cli = useCliFixture();
let cluster: RedisCluster;
let stack: NotifyingStack;
let worker: ServeChild;
const prefix = `{tf-${randomBytes(4).toString('hex')}}`;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicas: 1 });
  stack = await startNotifyingStack(cli, {
    env: {
      REDIS_CLUSTER_NODES: cluster.nodes,
      TICKETFLOW_QUEUE_PREFIX: prefix,
      TICKETFLOW_RATE_LIMIT_PER_TICKET: '100000',
    },
    serveArgs: ['--ingress'],
  });
  worker = await stack.serve(['--worker']);
  await until(
    'both processes ready',
    async () => {
      const answers = await Promise.all(
        [stack.url, worker.url].map((url) => fetch(`${url}/readyz`)),
      );
      return answers.every((res) => res.status === 200);
    },
    30_000,
  );
}, 90_000);
afterAll(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  await stack?.close();
  await cluster?.close();
});

/** A node of CLUSTER NODES: its id, `host:port`, whether it is a master, and whose replica. */
interface ClusterNode {
  id: string;
  address: string;
  master: boolean;
  replicaOf: string | undefined;
  slots: Array<[number, number]>;
}

/** The cluster as the node at `url` sees it (gossip may lag a round behind another's view). */
async function clusterNodes(url = cluster.servers[0]!.url): Promise<ClusterNode[]> {
  const any = new Redis(url);
  try {
    const text = String(await any.call('CLUSTER', 'NODES'));
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const [id, address, flags, replicaOf, , , , , ...slots] = line.split(' ');
        return {
          id: id!,
          address: address!.split('@')[0]!,
          master: flags!.split(',').includes('master'),
          replicaOf: replicaOf === '-' ? undefined : replicaOf,
          slots: slots
            .filter((s) => !s.startsWith('['))
            .map((s) => {
              const [from, to = from] = s.split('-').map(Number);
              return [from!, to!] as [number, number];
            }),
        };
      });
  } finally {
    any.disconnect();
  }
}

/**
 * Posts `count` replies with `Prefer: wait`, a client retrying a 503 (or a 409 while the first
 * attempt holds its key) as the README says, under the same `Idempotency-Key`: a 503 whose job
 * did reach Redis is then not a second reply.
 */
async function postStored(count: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const answer = await until(
      `reply ${label} ${n} accepted`,
      async () => {
        const posted = await stack.postReply(`failover ${label} ${n}`, {
          waitS: 20,
          idempotencyKey: `failover-${label}-${n}`,
        });
        return posted.status === 503 || posted.status === 409 ? false : posted;
      },
      30_000,
    );
    expect(answer).toMatchObject({ status: 200, body: { status: 'persisted' } });
    ids.push(answer.body.replyid);
  }
  return ids;
}

describe('Ticketflow through a Redis Cluster failover', () => {
  it(
    'follows its slot to the promoted replica: every reply before and after is stored once and notified, nothing is left waiting',
    { timeout: 120_000 },
    async () => {
      const before = await postStored(10, 'before');

      // The master serving the prefix's slot, and its replica.
      const probe = new Redis(cluster.servers[0]!.url);
      const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', prefix));
      probe.disconnect();
      const nodes = await clusterNodes();
      const master = nodes.find(
        (n) => n.master && n.slots.some(([a, b]) => a <= slot && slot <= b),
      );
      const replica = nodes.find((n) => n.replicaOf === master?.id);
      expect(master).toBeDefined();
      expect(replica).toBeDefined();

      const promoted = new Redis(`redis://${replica!.address}`);
      try {
        // Graceful: the replica waits until it has every write of its master, then takes over.
        await promoted.call('CLUSTER', 'FAILOVER');
        await until(
          'the replica to serve the slot',
          async () => {
            const view = await clusterNodes(`redis://${replica!.address}`);
            const self = view.find((n) => n.address === replica!.address);
            return self?.master === true && self.slots.some(([a, b]) => a <= slot && slot <= b);
          },
          30_000,
        );
      } finally {
        promoted.disconnect();
      }

      const after = await postStored(10, 'after');
      const accepted = [...before, ...after].sort();

      const stored = await cli.database
        .db('ticket_replies')
        .where('message', 'like', 'failover %')
        .orderBy('reply_uid')
        .pluck<string[]>('reply_uid');
      expect(stored).toEqual(accepted);
      await until(
        'an email and a webhook for every reply',
        () => {
          const mails = stack.smtp.received.filter((m) =>
            accepted.includes(m.header('x-ticketflow-reply-id') ?? ''),
          );
          const hooks = stack.hooks.received.filter((h) =>
            accepted.some((id) => h.body.includes(id)),
          );
          return mails.length === accepted.length && hooks.length === accepted.length;
        },
        30_000,
      );
      const queues = await stack.drained();
      expect(queues.length).toBeGreaterThan(0);
    },
  );
});
