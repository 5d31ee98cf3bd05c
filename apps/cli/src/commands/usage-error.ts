/**
 * Thrown for a usage error (an argument the command cannot take); main prints the message on
 * one line and exits 2, as commander's own usage errors do (API.md §10).
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
