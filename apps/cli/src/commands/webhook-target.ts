import { isIP } from 'node:net';
import { checkWebhookUrl, isPublicAddress } from '@ticketflow/worker';

type EndpointUrlCheck = { ok: true; url: string } | { ok: false; reason: string };

/**
 * Checks a webhook URL as `webhooks add` takes it: the worker's shape check, then, for a host
 * written as an IP address, that the address is globally routable unless private targets are
 * allowed. A hostname cannot be judged now: DNS may answer differently at delivery, so the
 * worker checks the address it resolves to on every attempt. This early check only spares an
 * operator an endpoint whose every delivery would be refused.
 */
export function checkEndpointUrl(raw: string, allowPrivate: boolean): EndpointUrlCheck {
  const checked = checkWebhookUrl(raw);
  if (!checked.ok) return checked;
  const host = checked.url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!allowPrivate && isIP(host) !== 0 && !isPublicAddress(host)) {
    return {
      ok: false,
      reason: `${host} is not a public address; webhooks to loopback, private and link-local addresses need TICKETFLOW_WEBHOOK_ALLOW_PRIVATE=true (development only)`,
    };
  }
  return { ok: true, url: checked.url.href };
}
