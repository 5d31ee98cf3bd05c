import type { Program } from '../processes.ts';

/** The hand-written baselines (bench/baselines/*.ts) by the letter issue 6 gives them. */
export const BASELINES = {
  a: { script: 'noop-express.ts', name: '(a) no-op Express' },
  b: { script: 'enqueue-express.ts', name: '(b) Express + JWT + queue.add' },
  m: { script: 'multer-only.ts', name: '(m) multer only' },
  c: { script: 'noop-worker.ts', name: '(c) no-op BullMQ worker' },
  d: { script: 'insert-worker.ts', name: '(d) BullMQ + one knex INSERT' },
  w: { script: 'fetch-webhook-worker.ts', name: '(w) BullMQ + signed fetch' },
} as const;

export type BaselineKey = keyof typeof BASELINES;

export function baselineProgram(key: BaselineKey): Program {
  return { kind: 'baseline', script: BASELINES[key].script };
}
