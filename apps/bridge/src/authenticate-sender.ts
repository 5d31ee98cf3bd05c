import { readAuthenticationResults, type AuthResult } from './read-authentication-results.ts';

/**
 * Whether the From address is vouched for by our own MTA, which checked DKIM, SPF and DMARC as
 * the message came in and wrote what it found in an Authentication-Results header under its
 * authserv-id (RFC 8601). Anyone can write a From header, so without this a stranger who knows
 * a client's address and a ticket number can post on that client's ticket.
 *
 * Only the topmost header with `authservId` is read: our MTA adds its header on top, and
 * RFC 8601 §5 has it remove any header claiming its id that came with the message, so headers
 * below it (or with other ids) are the sender's word. The From domain passes on `dmarc=pass`,
 * or on a `dkim=pass` or `spf=pass` whose domain is aligned with it (DMARC's relaxed alignment:
 * the same domain, or one a subdomain of the other). Pure.
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
  const fromDomain = domainOf(fromAddress);
  return ours?.results.some((r) => r.result === 'pass' && vouchesFor(r, fromDomain)) ?? false;
}

function vouchesFor(result: AuthResult, fromDomain: string): boolean {
  switch (result.method) {
    case 'dmarc': {
      // DMARC already checked alignment; its header.from names the domain it judged.
      const judged = result.props.get('header.from');
      return judged === undefined || domainOf(judged) === fromDomain;
    }
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

/** `user@Example.COM.` or `@example.com` or `example.com` → `example.com`. */
function domainOf(value: string): string {
  return value
    .slice(value.lastIndexOf('@') + 1)
    .trim()
    .toLowerCase()
    .replace(/\.$/, '');
}
