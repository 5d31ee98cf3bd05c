/**
 * Why a job was dead-lettered, as people outside see it: `/api/v2/replies/:replyid` and a
 * `Prefer: wait` answer show one of these sentences, never the raw error (a PostgreSQL message
 * can name tables and constraints). The raw error stays in `dead_letters.error` for ops.
 */
const deadReasons = {
  invalid_job: 'the job does not follow the reply job contract',
  ticket_not_found: 'its ticket does not exist',
  author_not_found: 'the client or contact it names does not exist',
  status_not_found: 'the ticket status it sets does not exist',
  invalid_attachment: 'an attachment was refused',
  invalid_custom_field: 'a custom field was refused',
  refused_by_database: 'the database refused to store it',
  retries_exhausted: 'every attempt failed on a temporary error (database or Redis unavailable)',
  delivery_refused: 'the recipient refused the notification',
  endpoint_gone: 'the webhook endpoint answered 410 Gone and was disabled',
  endpoint_disabled: 'the webhook endpoint is disabled',
  target_not_allowed: 'the webhook URL points at a private or loopback address',
} as const;

export type DeadReason = keyof typeof deadReasons;

/** The public sentence for a reason code; unknown codes (an older row) read as exhausted retries. */
export function describeDeadReason(code: string | null | undefined): string {
  return code && code in deadReasons
    ? deadReasons[code as DeadReason]
    : deadReasons.retries_exhausted;
}
