/**
 * Our loop-detection header, on every notification email. Its value is the domain of the
 * sending address (lowercase), or `ticketflow` when that has none. The email bridge drops any
 * message carrying it: one of our notifications come back (a department address that is also
 * the bridge's mailbox), or another Ticketflow installation's, which RFC 3834 says not to
 * answer automatically either.
 */
export const LOOP_HEADER = 'X-Ticketflow-Loop';
