import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

/** One `/metrics` answer, read by a real Prometheus text-format parser. */
export interface Scrape {
  families: ParsedFamily[];
  /**
   * A sample's value: the series of `name` whose labels include `labels`. Histogram series are
   * read by their sample names (`…_count`, `…_sum`, `…_bucket`).
   */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

/** GET /metrics with an ops token; fails unless it answers 200 with Prometheus text. */
export async function scrapeMetrics(baseUrl: string, token: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain; version=0.0.4')) {
    throw new Error(`/metrics content type ${res.headers.get('content-type')}`);
  }
  const families = parsePrometheusTextFormat(text);
  // parse-prometheus-text-format 1.1.1 drops the labels, _sum and _count of a labelled
  // histogram (yunyu/parse-prometheus-text-format#13); without the TYPE line it reads those
  // samples as plain series, labels intact.
  const samples = parsePrometheusTextFormat(text.replace(/^# TYPE \S+ histogram$/gm, ''));
  return {
    families,
    value(name, labels = {}) {
      // A histogram's samples alternate per label set, so one name can head several families.
      const series = samples.filter((f) => f.name === name).flatMap((f) => f.metrics);
      const sample = series.find((m) =>
        Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
      );
      return sample?.value === undefined ? undefined : Number(sample.value);
    },
  };
}
