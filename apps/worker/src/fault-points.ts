import type { FaultPoint } from '@ticketflow/config';

/** Stops the process at a named point, if configured; a no-op otherwise. */
export type HitFault = (point: FaultPoint) => void;

/**
 * Crash points for tests that need a process to die at an exact moment (right after a reply
 * commit, right after a dead letter is written). SIGKILL, not exit: nothing may run after it,
 * exactly as when the machine dies. Only TICKETFLOW_FAULT_POINTS switches them on.
 */
export function faultPoints(enabled: readonly FaultPoint[]): HitFault {
  if (enabled.length === 0) return () => {};
  const on = new Set(enabled);
  return (point) => {
    if (on.has(point)) process.kill(process.pid, 'SIGKILL');
  };
}
