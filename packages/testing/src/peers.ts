// Real protocol peers for tests and the bench, free of vitest.
export { startSmtpPeer, type SmtpPeer, type ReceivedMail } from './smtp-peer.ts';
export {
  startWebhookReceiver,
  type WebhookReceiver,
  type ReceivedWebhook,
  type WebhookAnswer,
} from './webhook-receiver.ts';
export { until } from './until.ts';
export { startRedisServer, type RedisServer } from './redis-server.ts';
export { startRedisCluster, type RedisCluster } from './redis-cluster.ts';
export { replyJob } from './reply-job.ts';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
export { freePort } from './free-port.ts';
export { DEMO_TICKET_SUBJECT, rawMail } from './raw-mail.ts';
