import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/** A TCP proxy on 127.0.0.1 in front of one port, that can wedge the connections it carries. */
export interface TcpProxy {
  port: number;
  /**
   * Wedges every connection open now whose client has not sent `spare` (for example a Redis
   * connection name): from then on its bytes go nowhere in either direction and the socket
   * stays open, as a connection behind a NAT or a failover that lost its state does. Nothing
   * tells the peers; only their own timeouts notice. Connections opened later pass normally.
   * Returns how many connections it wedged.
   */
  wedge(spare?: string): number;
  close(): Promise<void>;
}

interface Carried {
  client: Socket;
  upstream: Socket;
  /** What the client sent first (enough to hold a `CLIENT SETNAME`). */
  head: string;
  wedged: boolean;
}

const HEAD_BYTES = 4096;

/** Starts a proxy to `targetPort` on 127.0.0.1. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const carried = new Set<Carried>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const link: Carried = { client, upstream, head: '', wedged: false };
    carried.add(link);
    client.on('data', (chunk: Buffer) => {
      if (link.head.length < HEAD_BYTES) link.head += chunk.toString('latin1');
      if (!link.wedged) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!link.wedged) client.write(chunk);
    });
    // A wedged link never closes on its own: the point is that nobody hears of the far end.
    const end = () => {
      if (link.wedged) return;
      carried.delete(link);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    wedge(spare) {
      let count = 0;
      for (const link of carried) {
        if (link.wedged || (spare !== undefined && link.head.includes(spare))) continue;
        link.wedged = true;
        count += 1;
      }
      return count;
    },
    async close() {
      for (const { client, upstream } of carried) {
        client.destroy();
        upstream.destroy();
      }
      carried.clear();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
