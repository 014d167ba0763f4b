// Reading the higher timeframes: 1m from candles_1m, 5m/1h/1d aggregated from it at read time.
// Reading the higher timeframes: 1m straight from candles_1m (kept by the triggers of migration 0010), 5m,
// 1h and 1d aggregated from candles_1m at read time under the same rules (a day of 1m bars for one symbol
// is ~390 rows of one index range; see bench/storage.bench.ts). Buckets are aligned to UTC for 1m/5m/1h
// and to the New York calendar day for 1d. Everything here reads one symbol's index range or, for "latest
// across symbols", the newest stretch of the bucket index (test/store/explain.test.ts).

import type pg from 'pg';
import type { OhlcvRow } from './queries.js';

export const TIMEFRAMES = ['1m', '5m', '1h', '1d'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

export interface Bar {
  kind: Timeframe;
  symbol: string;
  /** The bar's start, epoch ms. */
  bucket: number;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number;
  tradeCount: number;
  vwap: number | null;
}

/** SQL for the bar's start of a timestamptz expression. */
const BUCKET: Record<Timeframe, (e: string) => string> = {
  '1m': (e) => e,
  '5m': (e) => `date_bin('5 minutes', ${e}, TIMESTAMPTZ 'epoch')`,
  '1h': (e) => `date_bin('1 hour', ${e}, TIMESTAMPTZ 'epoch')`,
  '1d': (e) => `date_trunc('day', ${e}, 'America/New_York')`,
};

/** A bar's nominal length: enough to step past it (a New York day is 23–25 h; 26 h lands in the next). */
const STEP_MS: Record<Timeframe, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '1h': 3_600_000,
  '1d': 26 * 3_600_000,
};

/** The next bar's start after the bar starting at `bucket` is at or after this. */
export const afterBar = (tf: Timeframe, bucket: number): number =>
  tf === '1d' ? bucket + STEP_MS['1d'] : bucket + STEP_MS[tf];

const AGG = `
  (array_agg(open ORDER BY bucket) FILTER (WHERE open IS NOT NULL))[1] AS open,
  max(high) AS high, min(low) AS low,
  (array_agg(close ORDER BY bucket DESC) FILTER (WHERE close IS NOT NULL))[1] AS close,
  sum(volume) AS volume, sum(trade_count)::int AS trade_count,
  sum(vwap * volume) FILTER (WHERE vwap IS NOT NULL AND volume > 0)
    / NULLIF(sum(volume) FILTER (WHERE vwap IS NOT NULL AND volume > 0), 0) AS vwap`;

interface BarRow extends OhlcvRow {
  b: Date;
}

const toBar =
  (kind: Timeframe) =>
  (r: BarRow): Bar => ({
    kind,
    symbol: r.symbol,
    bucket: r.b.getTime(),
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    tradeCount: r.trade_count,
    vwap: r.vwap,
  });

export interface RangeQuery {
  timeframe: Timeframe;
  symbol: string;
  /** Bars starting at or after the bar holding this instant (epoch ms); default: the beginning. */
  from?: number;
  /** Bars starting before this (epoch ms); default: no end. */
  to?: number;
  /** At most this many bars (1–100,000). */
  limit: number;
  /** Oldest first (export, charts) or newest first (the CLI); newest first keeps the newest `limit`. */
  order: 'asc' | 'desc';
}

/** Year 5138: "no end" that to_timestamp and interval arithmetic still handle. */
const NO_END = 1e14;
const TS = (n: number) => `to_timestamp($${n}::float8 / 1000)`;

const clampLimit = (n: number) => Math.max(1, Math.min(100_000, Math.floor(n)));

/** A time range of one symbol's bars: one range of the candles_1m primary key. */
export async function readBars(pool: pg.Pool, q: RangeQuery): Promise<Bar[]> {
  const tf = q.timeframe;
  // Epoch ms as float8 (to_timestamp in SQL): no Date at the edges of its range for an open end.
  const from = q.from ?? 0;
  const to = q.to ?? NO_END;
  const dir = q.order === 'asc' ? 'ASC' : 'DESC';
  const limit = clampLimit(q.limit);
  if (tf === '1m') {
    const r = await pool.query<BarRow>(
      `SELECT symbol, bucket AS b, open, high, low, close, volume, trade_count, vwap FROM candles_1m
       WHERE symbol = $1 AND bucket >= ${TS(2)} AND bucket < ${TS(3)} ORDER BY bucket ${dir} LIMIT $4`,
      [q.symbol, from, to, limit],
    );
    return r.rows.map(toBar(tf));
  }
  // The 1m rows from the first bar's start up to a bar past `to`; bars starting at or after `to` dropped.
  const r = await pool.query<BarRow>(
    `SELECT symbol, ${BUCKET[tf]('bucket')} AS b, ${AGG} FROM candles_1m
     WHERE symbol = $1 AND bucket >= ${BUCKET[tf](TS(2))} AND bucket < ${TS(3)} + interval '26 hours'
     GROUP BY symbol, b HAVING ${BUCKET[tf]('bucket')} < ${TS(3)} ORDER BY b ${dir} LIMIT $4`,
    [q.symbol, from, to, limit],
  );
  return r.rows.map(toBar(tf));
}

/**
 * The newest `limit` bars, newest first: of one symbol, or across symbols (ties by symbol). Above 1m the
 * window widens until it holds `limit` bars or reaches the oldest minute, so a long history is never
 * aggregated whole.
 */
export async function latestBars(
  pool: pg.Pool,
  q: { timeframe: Timeframe; symbol?: string; limit: number },
): Promise<Bar[]> {
  const tf = q.timeframe;
  const limit = clampLimit(q.limit);
  const where = q.symbol ? 'WHERE symbol = $2' : '';
  const params: unknown[] = q.symbol ? [limit, q.symbol] : [limit];
  if (tf === '1m') {
    const r = await pool.query<BarRow>(
      `SELECT symbol, bucket AS b, open, high, low, close, volume, trade_count, vwap FROM candles_1m ${where}
       ORDER BY bucket DESC, symbol LIMIT $1`,
      params,
    );
    return r.rows.map(toBar(tf));
  }
  const ends = await pool.query<{ lo: Date | null; hi: Date | null }>(
    `SELECT (SELECT bucket FROM candles_1m ${where} ORDER BY bucket ASC LIMIT 1) AS lo,
            (SELECT bucket FROM candles_1m ${where} ORDER BY bucket DESC LIMIT 1) AS hi
     FROM (SELECT $1::int) AS p`,
    params,
  );
  const { lo, hi } = ends.rows[0] ?? { lo: null, hi: null };
  if (!lo || !hi) return [];
  for (let span = limit * STEP_MS[tf]; ; span *= 4) {
    const from = hi.getTime() - span;
    const r = await pool.query<BarRow>(
      `SELECT symbol, ${BUCKET[tf]('bucket')} AS b, ${AGG} FROM candles_1m
       WHERE bucket >= ${BUCKET[tf](TS(params.length + 1))} ${q.symbol ? 'AND symbol = $2' : ''}
       GROUP BY symbol, b ORDER BY b DESC, symbol LIMIT $1`,
      [...params, from],
    );
    if (r.rows.length >= limit || from <= lo.getTime()) return r.rows.map(toBar(tf));
  }
}
