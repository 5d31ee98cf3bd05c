/** How `list`-style subcommands print their rows. */
interface Listing<T> {
  json: boolean;
  /** The JSON output is one object with the rows under this key. */
  key: string;
  /** The sentence printed instead of an empty table. */
  none: string;
  header: readonly string[];
  cells: (row: T) => string[];
}

/** Prints rows as one JSON object, as a table, or as the sentence saying there are none. */
export function printListing<T>(rows: readonly T[], listing: Listing<T>): void {
  if (listing.json) {
    process.stdout.write(JSON.stringify({ [listing.key]: rows }) + '\n');
  } else if (rows.length === 0) {
    process.stdout.write(listing.none + '\n');
  } else {
    process.stdout.write(formatTable(listing.header, rows.map(listing.cells)));
  }
}

/** An optional time as the tables show it: ISO 8601 in UTC, or `-`. */
export function formatTime(time: Date | null | undefined): string {
  return time ? time.toISOString() : '-';
}

/**
 * Lines of a plain-text table: each column padded to its widest cell and separated by two
 * spaces, so the output lines up in a terminal and still splits on whitespace.
 */
function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}
