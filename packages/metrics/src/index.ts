export { createMetrics, type Metrics } from './create-metrics.ts';
export type { ObserveMail } from './mail-metrics.ts';
