import type { Server } from 'node:http';
import { answerClientErrors } from '@ticketflow/ingress';

/**
 * Starts `app` on `host:port` and resolves once it listens (rejects when the port is taken).
 * Malformed requests get a JSON 400, as the API answers errors, instead of Node's bare one.
 */
export function listenHttp(
  app: { listen(port: number, host: string, callback: () => void): Server },
  port: number,
  host: string,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    answerClientErrors(server);
    server.once('error', reject);
  });
}
