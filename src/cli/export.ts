// `tick-collector export`: one symbol's candles or bars, oldest first, as CSV, JSONL or Parquet.
// `tick-collector export --symbol S [--kind 1s|100t|1m|…] [--from] [--to] [--format csv|jsonl|parquet]
// [--output FILE]`: one symbol's candles or bars, oldest first, with the database's column names
// (exportReads.ts), in pages of one key range each (keyset), written with backpressure (exportFormats.ts):
// bounded memory whatever the range. No rows is said on stderr (the file still has its header or schema).
import { DateTime } from 'luxon';
import { NYSE_ZONE } from '../calendar/index.js';
import { type Config, ConfigError, type Flags } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { openDatabase } from '../store/database.js';
import { stringFlag } from './args.js';
import { FORMATS, type Format, rowWriter } from './exportFormats.js';
import { COLUMNS, type Cursor, EXPORT_KINDS, type ExportKind, readPage } from './exportReads.js';

const PAGE = 5_000;

/**
 * A --from/--to value: YYYY-MM-DD is a New York calendar day (--from its start, --to inclusive: the next
 * day's start), anything else an ISO-8601 instant with its zone (--to exclusive).
 */
export function parseInstant(flag: '--from' | '--to', raw: string): number {
  const v = raw.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const d = DateTime.fromISO(v, { zone: NYSE_ZONE });
    if (d.isValid) return (flag === '--to' ? d.plus({ days: 1 }) : d).toMillis();
  } else if (/[zZ]|[+-]\d{2}:?\d{2}$/.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw new ConfigError(
    flag,
    `must be YYYY-MM-DD (a New York day) or an ISO-8601 time with a zone, got "${raw}"`,
  );
}

export async function exportCommand(config: Config, flags: Flags): Promise<number> {
  const kind = stringFlag(flags, '--kind') ?? '1m';
  if (!(EXPORT_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError('--kind', `must be one of ${EXPORT_KINDS.join(', ')}, got "${kind}"`);
  }
  const symbol = stringFlag(flags, '--symbol')?.trim().toUpperCase();
  if (!symbol) throw new ConfigError('--symbol', 'is required');
  const format = stringFlag(flags, '--format') ?? 'csv';
  if (!(FORMATS as readonly string[]).includes(format))
    throw new ConfigError('--format', `must be one of ${FORMATS.join(', ')}, got "${format}"`);
  const output = stringFlag(flags, '--output') ?? null;
  if (format === 'parquet' && output === null)
    throw new ConfigError(
      '--output',
      'is required with --format parquet (a file, e.g. --output aapl.parquet)',
    );
  const fromRaw = stringFlag(flags, '--from');
  const toRaw = stringFlag(flags, '--to');
  const from = fromRaw ? parseInstant('--from', fromRaw) : 0;
  const to = toRaw ? parseInstant('--to', toRaw) : Date.now();
  if (to <= from) throw new ConfigError('--to', 'must be after --from');

  const k = kind as ExportKind;
  const db = await openDatabase(config, createLogger({ level: 'warn' }));
  let rows = 0;
  try {
    const out = await rowWriter(format as Format, COLUMNS[k], output);
    let after: Cursor | null = null;
    for (;;) {
      const page = await readPage(db.pool, { kind: k, symbol, from, to, limit: PAGE, after });
      await out.write(page.rows);
      rows += page.rows.length;
      after = page.next;
      if (page.rows.length < PAGE) break;
    }
    await out.end();
  } finally {
    await db.close();
  }
  const span = `${fromRaw ?? 'the beginning'} … ${toRaw ?? 'now'}`;
  if (rows === 0) process.stderr.write(`tick-collector export: no rows for ${symbol} (${kind}, ${span})\n`);
  else if (output)
    process.stderr.write(`tick-collector export: ${rows} rows of ${symbol} (${kind}) to ${output}\n`);
  return 0;
}
