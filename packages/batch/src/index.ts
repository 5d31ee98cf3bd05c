export { batchCalls, allOk, type Settled, type BatchOptions } from './batch-calls.ts';
