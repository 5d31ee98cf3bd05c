import { Counter, type Registry } from 'prom-client';

/** What became of one inbound message: posted, dropped or refused with its reason, or deferred. */
export type ObserveMail = (outcome: string, reason: string) => void;

/**
 * `ticketflow_inbound_emails_total{outcome, reason}`: every message the email bridge read, by
 * what became of it (`posted`, `dropped`, `refused`, `deferred`; the reason code of a drop or a
 * refusal, else empty). The bridge names the pairs it can report (`known`), and they start at 0,
 * so an alert on a rate of refusals sees the series before the first one.
 */
export function createMailMetrics(
  registry: Registry,
  known: ReadonlyArray<{ outcome: string; reason: string }>,
): ObserveMail {
  const messages = new Counter({
    name: 'ticketflow_inbound_emails_total',
    help: 'Inbound email messages read by the bridge, by outcome and reason',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
  });
  for (const labels of known) messages.inc(labels, 0);
  return (outcome, reason) => messages.inc({ outcome, reason });
}
