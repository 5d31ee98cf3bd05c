import { UnrecoverableError } from 'bullmq';
import type { DeadReason } from '@ticketflow/contract';

/**
 * A failure no retry can fix: BullMQ does not retry it, and the worker starter records
 * `reason` (the public code) in the dead letter beside the raw detail.
 */
export class FinalJobError extends UnrecoverableError {
  constructor(
    readonly reason: DeadReason,
    detail: string,
  ) {
    super(detail);
  }
}
