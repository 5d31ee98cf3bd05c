export { batchCalls, allOk, type Settled } from './batch-calls.ts';
