// Plain-text tables for the CLI: right-aligned numbers, left-aligned text, one header row.

export function formatTable(headers: string[], rows: (string | number | null)[][]): string {
  const cells = rows.map((r) => r.map((v) => (v === null ? '' : String(v))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number'),
  );
  const line = (r: string[]) =>
    r
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** A price or size with at most 4 decimals and no trailing zeros. */
export function num(v: number | null): number | null {
  return v === null ? null : Math.round(v * 10_000) / 10_000;
}
