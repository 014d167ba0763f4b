// JSON output of the CLI (`--json`): one object per line, and every instant as ISO-8601 UTC.
// As the tables show them (epoch ms in one output and ISO in another would make users convert).

/** Epoch-ms fields in `keys` become ISO-8601 strings (null stays null); other fields are kept. */
export function withIsoTimes<T extends object>(row: T, keys: readonly (keyof T)[]): Record<string, unknown> {
  const out = { ...row } as Record<string, unknown>;
  for (const k of keys) {
    const v = row[k];
    if (typeof v === 'number') out[k as string] = new Date(v).toISOString();
  }
  return out;
}

export function writeJsonLines(rows: readonly unknown[]): void {
  if (rows.length > 0) process.stdout.write(`${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
}
