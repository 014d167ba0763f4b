// `tick-collector export --kind 1m --symbol S --from --to --format csv|jsonl`: one symbol's candles or bars
// to stdout, oldest first, in pages of one index range each (keyset on the bucket), written with
// backpressure: constant memory whatever the range.
import { once } from 'node:events';
import { DateTime } from 'luxon';
import { NYSE_ZONE } from '../calendar/index.js';
import { type Config, ConfigError, type Flags } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { openDatabase } from '../main/database.js';
import { readSeconds } from '../store/queries.js';
import { afterBar, type Bar, readBars, TIMEFRAMES, type Timeframe } from '../store/timeframes.js';
import { stringFlag } from './args.js';

const PAGE = 5_000;
const KINDS = ['1s', ...TIMEFRAMES] as const;
const COLUMNS = ['symbol', 'bucket', 'open', 'high', 'low', 'close', 'volume', 'trade_count', 'vwap'];

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

type Row = Pick<
  Bar,
  'symbol' | 'bucket' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'tradeCount' | 'vwap'
>;

const cell = (v: number | null) => (v === null ? '' : String(v));
const csvLine = (r: Row) =>
  [
    r.symbol,
    new Date(r.bucket).toISOString(),
    cell(r.open),
    cell(r.high),
    cell(r.low),
    cell(r.close),
    r.volume,
    r.tradeCount,
    cell(r.vwap),
  ].join(',');
const jsonLine = (r: Row) =>
  JSON.stringify({
    symbol: r.symbol,
    bucket: new Date(r.bucket).toISOString(),
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    tradeCount: r.tradeCount,
    vwap: r.vwap,
  });

export async function exportCommand(config: Config, flags: Flags): Promise<number> {
  const kind = stringFlag(flags, '--kind') ?? '1m';
  if (!(KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError('--kind', `must be one of ${KINDS.join(', ')}, got "${kind}"`);
  }
  const symbol = stringFlag(flags, '--symbol')?.trim().toUpperCase();
  if (!symbol) throw new ConfigError('--symbol', 'is required');
  const format = stringFlag(flags, '--format') ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl')
    throw new ConfigError('--format', `must be csv or jsonl, got "${format}"`);
  const fromRaw = stringFlag(flags, '--from');
  const toRaw = stringFlag(flags, '--to');
  const from = fromRaw ? parseInstant('--from', fromRaw) : 0;
  const to = toRaw ? parseInstant('--to', toRaw) : Date.now();
  if (to <= from) throw new ConfigError('--to', 'must be after --from');

  const line = format === 'csv' ? csvLine : jsonLine;
  const out = process.stdout;
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const db = await openDatabase(config, createLogger({ level: 'warn' }));
  try {
    if (format === 'csv') await write(`${COLUMNS.join(',')}\n`);
    let cursor = from;
    for (;;) {
      const page: Row[] =
        kind === '1s'
          ? await readSeconds(db.pool, { symbol, from: cursor, to, limit: PAGE })
          : await readBars(db.pool, {
              timeframe: kind as Timeframe,
              symbol,
              from: cursor,
              to,
              limit: PAGE,
              order: 'asc',
            });
      if (page.length > 0) await write(`${page.map(line).join('\n')}\n`);
      if (page.length < PAGE) return 0;
      const last = page[page.length - 1]!.bucket;
      cursor = kind === '1s' ? last + 1 : afterBar(kind as Timeframe, last);
    }
  } finally {
    await db.close();
  }
}
