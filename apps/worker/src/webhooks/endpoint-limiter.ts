/**
 * Caps the attempts in flight per endpoint in this process, so a slow endpoint (15 s each)
 * cannot take every slot of the notification worker and hold up healthy endpoints and email.
 * A job over the cap goes back to the queue for a moment instead of waiting in a slot.
 */
export class EndpointLimiter {
  private readonly inFlight = new Map<number, number>();

  constructor(private readonly perEndpoint: number) {}

  /** True when an attempt may start now; pair each true with one release. */
  tryAcquire(endpointId: number): boolean {
    const n = this.inFlight.get(endpointId) ?? 0;
    if (n >= this.perEndpoint) return false;
    this.inFlight.set(endpointId, n + 1);
    return true;
  }

  release(endpointId: number): void {
    const n = (this.inFlight.get(endpointId) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(endpointId);
    else this.inFlight.set(endpointId, n);
  }
}
