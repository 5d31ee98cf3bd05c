/** Roles of API.md §2. */
export const ROLES = ['client', 'staff', 'bridge', 'ops'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, from a verified token. */
export interface Principal {
  sub: string;
  role: Role;
  /** The client a `client` token acts for. */
  clientid: number | undefined;
  /** A `staff` token's display name. */
  admin: string | undefined;
  scopes: readonly string[];
  /** Expiry, seconds since the epoch. */
  exp: number;
}
