export { batchCalls, allOk, eachOnFailure, type Settled } from './batch-calls.ts';
