import { readAuthenticationResults, type AuthResult } from './read-authentication-results.ts';

/**
 * Whether the From address is vouched for by our own MTA, which checked DKIM, SPF and DMARC as
 * the message came in and wrote what it found in an Authentication-Results header under its
 * authserv-id (RFC 8601). Anyone can write a From header, so without this a stranger who knows
 * a client's address and a ticket number can post on that client's ticket.
 *
 * Only the topmost header with `authservId` is read: our MTA adds its header on top, and
 * RFC 8601 §5 has it remove any header claiming its id that came with the message, so headers
 * below it (or with other ids) are the sender's word. When it holds a DMARC verdict, that
 * verdict decides alone, and only a pass for this very From domain (`header.from`) passes: DMARC
 * judged the From the reader sees, so a DKIM or SPF pass beside its failure (a signature over
 * another From, say) cannot outvote it. Without one, a `dkim=pass` or `spf=pass` whose domain is
 * aligned with the From domain (DMARC's relaxed alignment) passes. Pure.
 */
export function authenticateSender(
  authenticationResults: readonly string[],
  fromAddress: string,
  authservId: string,
): boolean {
  const id = authservId.toLowerCase();
  const ours = authenticationResults
    .map(readAuthenticationResults)
    .find((header) => header?.authservId === id);
  if (!ours) return false;
  const fromDomain = domainOf(fromAddress);
  const dmarc = ours.results.filter((r) => r.method === 'dmarc');
  if (dmarc.length > 0) {
    return dmarc.every(
      (r) => r.result === 'pass' && domainOf(r.props.get('header.from') ?? '') === fromDomain,
    );
  }
  return ours.results.some((r) => r.result === 'pass' && alignedPass(r, fromDomain));
}

/** A DKIM or SPF pass whose domain is aligned with the From domain. */
function alignedPass(result: AuthResult, fromDomain: string): boolean {
  switch (result.method) {
    case 'dkim':
      return aligned(
        domainOf(result.props.get('header.d') ?? result.props.get('header.i') ?? ''),
        fromDomain,
      );
    case 'spf':
      return aligned(domainOf(result.props.get('smtp.mailfrom') ?? ''), fromDomain);
    default:
      return false;
  }
}

/**
 * Relaxed alignment without a public-suffix list: equal, or one a subdomain of the other, and
 * never a single label (`com` would align with every `.com` address).
 */
function aligned(domain: string, fromDomain: string): boolean {
  if (!domain.includes('.') || fromDomain === '') return false;
  return (
    domain === fromDomain || fromDomain.endsWith(`.${domain}`) || domain.endsWith(`.${fromDomain}`)
  );
}

/**
 * The domain of a property value: `user@Example.COM.`, `@example.com` or `example.com` →
 * `example.com`. A local-part may be a quoted string holding `@` (`"ann@client.example"@evil`):
 * the domain follows the last `@` outside quotes.
 */
function domainOf(value: string): string {
  let at = -1;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '@' && !quoted) at = i;
  }
  return value
    .slice(at + 1)
    .trim()
    .toLowerCase()
    .replace(/\.$/, '');
}
