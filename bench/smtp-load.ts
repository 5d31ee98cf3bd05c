import nodemailer, { type Transporter } from 'nodemailer';
import { perUnit, type CpuMeter, type CpuSplit } from './cpu.ts';
import { InvalidRun } from './load.ts';

/** What one SMTP side is sent: `warmup` messages unmeasured, then `count` on the clock. */
export interface SmtpLoad {
  /** Connections of nodemailer's pool, and so the most messages in flight at once. */
  connections: number;
  warmup: number;
  count: number;
}

export interface SmtpFigures {
  /** Messages answered 250 per second, from the first send to the last answer. */
  messagesPerSecond: number;
  /** 99th percentile of each message's time from hand-off to the pool to its 250. */
  p99Ms: number;
  /** With a meter: CPU µs per message by who spent it. */
  cpu?: CpuSplit;
}

/**
 * Sends `load.warmup` then `load.count` messages of `compose()` to 127.0.0.1:`port` over one
 * nodemailer pool, all prepared before the clock starts. Each of `load.connections` senders
 * hands the pool its next message as soon as its last one is answered, as autocannon's
 * connections do: every connection stays busy, and a message's latency is its own SMTP
 * transaction, not the time it would wait behind the whole batch. Any answer other than 250
 * makes the run invalid.
 */
export async function measureSmtp(
  label: string,
  port: number,
  load: SmtpLoad,
  compose: () => string,
  envelope: { from: string; to: string },
  startMeter?: () => CpuMeter,
): Promise<SmtpFigures> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: load.connections,
    // Connections opened in the warm-up carry the measured messages: the figure is about
    // messages, not SMTP greetings (nodemailer would reconnect every 100 messages).
    maxMessages: Infinity,
  });
  const batch = async (messages: string[], what: string) => {
    const sent = await sendAll(transport, messages, envelope, load.connections);
    if (sent.refused.length > 0) {
      throw new InvalidRun(
        `${what}: ${sent.refused.length} of ${messages.length} messages not answered 250, ` +
          `the first: ${sent.refused[0]}`,
      );
    }
    return sent;
  };
  const warmup = Array.from({ length: load.warmup }, compose);
  const measured = Array.from({ length: load.count }, compose);
  try {
    await batch(warmup, `${label} (warm-up)`);
    const meter = startMeter?.();
    const sent = await batch(measured, label);
    const sorted = sent.latenciesMs.sort((a, b) => a - b);
    return {
      messagesPerSecond: load.count / sent.seconds,
      p99Ms: sorted[Math.ceil(sorted.length * 0.99) - 1]!,
      ...(meter ? { cpu: perUnit(meter(), load.count) } : {}),
    };
  } finally {
    transport.close();
  }
}

async function sendAll(
  transport: Transporter,
  messages: string[],
  envelope: { from: string; to: string },
  senders: number,
): Promise<{ seconds: number; latenciesMs: number[]; refused: string[] }> {
  const latenciesMs: number[] = [];
  const refused: string[] = [];
  let next = 0;
  const sender = async () => {
    while (next < messages.length) {
      const raw = messages[next++]!;
      const handedOver = performance.now();
      try {
        const info = (await transport.sendMail({ envelope, raw })) as { response: string };
        if (!info.response.startsWith('250')) refused.push(info.response);
      } catch (error) {
        refused.push((error as Error).message);
      }
      latenciesMs.push(performance.now() - handedOver);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: senders }, sender));
  return { seconds: (performance.now() - start) / 1000, latenciesMs, refused };
}
