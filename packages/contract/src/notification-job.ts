import { z } from 'zod';

/** Queue of notification deliveries (email and webhooks), fed from the outbox. */
export const NOTIFICATION_QUEUE = 'notifications';
/** Job names on the notifications queue: one per channel, so each has its own retry policy. */
export const EMAIL_JOB = 'email';
export const WEBHOOK_JOB = 'webhook';

/**
 * A notification job names one outbox row and nothing else: what to send is read from
 * PostgreSQL when it is sent, so a job re-enqueued by the sweeper is the same job.
 */
export const notificationJobV1 = z.strictObject({
  v: z.literal(1),
  outboxId: z.uuid(),
  /** A webhook's endpoint: the per-endpoint cap is checked before anything is read. */
  endpointId: z.number().int().positive().optional(),
});

export type NotificationJob = z.infer<typeof notificationJobV1>;

/** BullMQ job id of an outbox row's delivery: the same id however often it is enqueued. */
export function notificationJobId(outboxId: string): string {
  return `notify-${outboxId}`;
}

/** Validates untrusted notification job data; undefined when it is not a v1 job. */
export function readNotificationJob(data: unknown): NotificationJob | undefined {
  const parsed = notificationJobV1.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}
