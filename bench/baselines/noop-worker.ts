// Baseline (c): the ceiling of BullMQ on this machine: fetch, complete, nothing else.
import { runBaselineWorker } from './run-worker.ts';

await runBaselineWorker(async () => {});
