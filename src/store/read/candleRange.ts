// Range reads of the candle tables for the web page and its JSON API.
// Range reads of the candle tables for the web page and its JSON API: one symbol, a time window, a bounded
// count, newest first in the query (so "scroll back" is one index range scan ending at `to`) and returned
// oldest first. Only primary-key ranges: candles_1s (symbol, bucket) and candles_100t (symbol,
// session_date, seq), the latter narrowed by the New York dates the window spans.
import type pg from 'pg';
import type { Candle } from '../../aggregate/types.js';
import { etDate } from '../../calendar/index.js';
import { GAP_COLUMNS, type GapRaw, type GapRow, toGapRow } from '../write/writeGaps.js';
import type { OhlcvRow } from './queries.js';

export type RangeKind = '1s' | '100t';
export const RANGE_KINDS: readonly RangeKind[] = ['1s', '100t'];

/** The most candles one read returns. */
export const MAX_RANGE_LIMIT = 5_000;

export interface RangeQuery {
  symbol: string;
  kind: RangeKind;
  /** Epoch ms, inclusive; null = no lower bound. 1s: the bucket; 100t: the candle's last trade (end_at). */
  from: number | null;
  /** Epoch ms, exclusive; null = no upper bound. */
  to: number | null;
  /** Clamped to 1…MAX_RANGE_LIMIT. */
  limit: number;
}

export interface RangeResult {
  /** Oldest first. Prices are null for a candle of volume-only trades (condition rules). */
  candles: Candle[];
  /** True when the window held more than `limit` candles: these are the latest; page on with to = the first. */
  more: boolean;
}

type Row = OhlcvRow;

interface Row1s extends Row {
  bucket: Date;
  first_trade_at: Date;
  last_trade_at: Date;
}

interface Row100t extends Row {
  session_date: string;
  seq: number;
  start_at: Date;
  end_at: Date;
}

const OHLCV = 'symbol, open, high, low, close, volume, trade_count, vwap';

const SQL_1S = `SELECT ${OHLCV}, bucket, first_trade_at, last_trade_at FROM candles_1s
  WHERE symbol = $1 AND bucket >= $2::timestamptz AND bucket < $3::timestamptz
  ORDER BY bucket DESC LIMIT $4`;

// session_date as text: node-postgres would turn a date into a local-midnight Date.
const SQL_100T = `SELECT ${OHLCV}, session_date::text AS session_date, seq, start_at, end_at FROM candles_100t
  WHERE symbol = $1 AND session_date >= $5::date AND session_date <= $6::date
    AND end_at >= $2::timestamptz AND end_at < $3::timestamptz
  ORDER BY session_date DESC, seq DESC LIMIT $4`;

const bound = (ms: number | null, open: string) => (ms === null ? open : new Date(ms).toISOString());

export function clampLimit(limit: number): number {
  return Math.max(1, Math.min(MAX_RANGE_LIMIT, Math.floor(Number.isFinite(limit) ? limit : 1)));
}

export async function candleRange(pool: pg.Pool, q: RangeQuery): Promise<RangeResult> {
  const limit = clampLimit(q.limit);
  const params: unknown[] = [q.symbol, bound(q.from, '-infinity'), bound(q.to, 'infinity'), limit + 1];
  let candles: Candle[];
  if (q.kind === '1s') {
    const r = await pool.query<Row1s>(SQL_1S, params);
    candles = r.rows.map(
      (row): Candle => ({
        kind: '1s',
        ...ohlcv(row),
        bucket: row.bucket.getTime(),
        firstTradeAt: row.first_trade_at.getTime(),
        lastTradeAt: row.last_trade_at.getTime(),
      }),
    );
  } else {
    // The New York dates the window can touch (a candle's session date is its trades' date there).
    params.push(q.from === null ? '-infinity' : etDate(q.from), q.to === null ? 'infinity' : etDate(q.to));
    const r = await pool.query<Row100t>(SQL_100T, params);
    candles = r.rows.map(
      (row): Candle => ({
        kind: '100t',
        ...ohlcv(row),
        sessionDate: row.session_date,
        seq: row.seq,
        startAt: row.start_at.getTime(),
        endAt: row.end_at.getTime(),
      }),
    );
  }
  const more = candles.length > limit;
  if (more) candles.length = limit;
  return { candles: candles.reverse(), more };
}

// The Candle type still says number for prices; since the condition rules they can be NULL in the tables
// and travel as null (JSON), which the page draws as a gap in the candles, never as zero.
function ohlcv(r: Row) {
  return {
    symbol: r.symbol,
    open: r.open as number,
    high: r.high as number,
    low: r.low as number,
    close: r.close as number,
    volume: r.volume,
    tradeCount: r.trade_count,
    vwap: r.vwap,
  };
}

/** The most gaps one read returns (a day with more is a day to look at with SQL). */
export const MAX_GAPS = 2_000;

/**
 * Gaps overlapping [from, to) (epoch ms) that started at most a day before `from`, oldest first, optionally
 * those covering one symbol ('*' and a connection's or shard's rows name theirs in `symbols`).
 */
export async function gapsBetween(
  pool: pg.Pool,
  from: number,
  to: number,
  symbol: string | null = null,
): Promise<{ gaps: GapRow[]; more: boolean }> {
  const r = await pool.query<GapRaw>(
    `SELECT ${GAP_COLUMNS} FROM feed_gaps
     WHERE started_at >= $3::timestamptz AND started_at < $2::timestamptz AND ended_at >= $1::timestamptz
       ${symbol === null ? '' : "AND (symbol = '*' OR symbol = $5 OR $5 = ANY(symbols))"}
     ORDER BY started_at, id LIMIT $4`,
    [
      new Date(from).toISOString(),
      new Date(to).toISOString(),
      // A gap lies inside one session (it ends by the close), so none that overlaps started a day earlier.
      new Date(from - 86_400_000).toISOString(),
      MAX_GAPS + 1,
      ...(symbol === null ? [] : [symbol]),
    ],
  );
  const gaps = r.rows.map(toGapRow);
  const more = gaps.length > MAX_GAPS;
  if (more) gaps.length = MAX_GAPS;
  return { gaps, more };
}
