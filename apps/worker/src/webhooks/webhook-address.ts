import ipaddr from 'ipaddr.js';

/** The parsed URL, or why it cannot be used. */
type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** IANA's global unicast block; everything else in IPv6 is reserved or special-purpose. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * Checks the shape of a webhook URL, once when an endpoint is added and again at delivery:
 * http or https only, no credentials in the URL, a host. Where the host points is checked at
 * connect time by {@link isPublicAddress}, because DNS can answer differently later.
 */
export function checkWebhookUrl(raw: string): WebhookUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return {
      ok: false,
      reason: `"${raw}" is not a full URL; write it like https://example.com/webhooks`,
    };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `webhook URLs must use http or https, not "${url.protocol}"` };
  }
  // Credentials in the URL would be logged with every attempt; the signature authenticates us.
  if (url.username !== '' || url.password !== '') {
    return {
      ok: false,
      reason:
        'webhook URLs must not contain a username or password; receivers check the webhook-signature header instead',
    };
  }
  return { ok: true, url };
}

/**
 * Whether a webhook may connect to `ip`: only globally routable unicast is public. Loopback,
 * private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast, reserved and
 * documentation ranges are refused, and so are IPv6 forms that can carry an IPv4 address
 * somewhere else (IPv4-mapped unless its IPv4 part is public, IPv4-compatible, NAT64, 6to4,
 * Teredo). Anything that does not parse as an address is refused.
 */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  // process() unwraps ::ffff:a.b.c.d so the IPv4 rules apply to what the kernel connects to.
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.range() === 'unicast';
  // ipaddr.js calls ::/96 (IPv4-compatible, e.g. ::127.0.0.1) "unicast"; 2000::/3 excludes it.
  return address.range() === 'unicast' && address.match(GLOBAL_UNICAST_V6);
}
