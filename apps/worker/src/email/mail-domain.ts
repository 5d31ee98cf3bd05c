import addressparser from 'nodemailer/lib/addressparser';

/**
 * The domain of the configured From address: notification Message-IDs are minted under it
 * (RFC 5322 asks for a domain the sender controls). `ticketflow.localhost` when it has none.
 */
export function mailDomain(from: string): string {
  const [first] = addressparser(from);
  const address = (first && 'address' in first ? first.address : undefined) ?? '';
  const at = address.lastIndexOf('@');
  const domain = at > 0 ? address.slice(at + 1).toLowerCase() : '';
  return /^[a-z0-9.-]+$/.test(domain) ? domain : 'ticketflow.localhost';
}
