import type { PhaseRow } from './tally.ts';

const COLUMNS: Array<[string, (row: PhaseRow) => string]> = [
  ['phase', (r) => r.phase],
  ['sent', (r) => String(r.sent)],
  ['answered 200', (r) => String(r.answered200)],
  ['refused', (r) => String(r.refused)],
  ['network errors', (r) => String(r.networkErrors)],
  ['persisted', (r) => String(r.persisted)],
  ['duplicates', (r) => String(r.duplicates)],
  ['lost', (r) => String(r.lost)],
  ['notifications delivered', (r) => String(r.notificationsDelivered)],
  ['duplicate deliveries', (r) => String(r.duplicateDeliveries)],
  [
    'seconds to recover',
    (r) => (r.secondsToRecover === null ? '–' : r.secondsToRecover.toFixed(1)),
  ],
];

/** The rows as a Markdown table, padded to line up in a terminal (the README has it as is). */
export function formatTable(rows: readonly PhaseRow[]): string {
  const cells = [COLUMNS.map(([title]) => title), ...rows.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) =>
    `| ${values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `-${'-'.repeat(w)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}
