import { Counter, Histogram, type Registry } from 'prom-client';

/** Records one answered request: its route pattern, method, status and seconds taken. */
export type ObserveRequest = (
  route: string,
  method: string,
  status: number,
  seconds: number,
) => void;

/**
 * Seconds; the ingress answers in milliseconds, `Prefer: wait` holds a request up to 30 s.
 * Fewer buckets than prom-client's default would blur the common case; more cost every scrape.
 */
const REQUEST_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/**
 * `ticketflow_http_requests_total` and `ticketflow_http_request_duration_seconds`, labelled by
 * route pattern (never the raw URL: one series per probed path would grow without bound),
 * method and status.
 */
export function createHttpMetrics(registry: Registry): ObserveRequest {
  const labelNames = ['route', 'method', 'status'] as const;
  const requests = new Counter({
    name: 'ticketflow_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ticketflow_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being written, in seconds',
    labelNames,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  return (route, method, status, seconds) => {
    const labels = { route, method, status };
    requests.inc(labels);
    duration.observe(labels, seconds);
  };
}
