// Range reads of the candle tables for the web page and its JSON API: one symbol, a time window, a bounded
// count, newest first in the query (so "scroll back" is one index range scan ending at `to`) and returned
// oldest first. Only primary-key ranges: candles_1s (symbol, bucket) and candles_100t (symbol,
// session_date, seq), the latter narrowed by the New York dates the window spans.
import type pg from 'pg';
import type { Candle } from '../aggregate/types.js';
import { etDate } from '../calendar/index.js';

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

interface Row {
  symbol: string;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number;
  trade_count: number;
  vwap: number | null;
}

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

export interface GapRow {
  id: number;
  /** A symbol, or '*' for a whole connection. */
  symbol: string;
  startedAt: number;
  endedAt: number;
  reason: string;
  /** Backfill's columns, present once that migration is applied (read defensively). */
  filledAt: number | null;
  filledTrades: number | null;
  fillError: string | null;
}

/** The most gaps one read returns (a day with more is a day to look at with SQL). */
export const MAX_GAPS = 2_000;

/**
 * Gaps overlapping [from, to) (epoch ms) that started at most a day before `from`, oldest first, optionally
 * for one symbol (a '*' gap covers every symbol). Rows go through to_jsonb so columns added by later migrations (filled_at, filled_trades,
 * fill_error) are read when they exist and are null before.
 */
export async function gapsBetween(
  pool: pg.Pool,
  from: number,
  to: number,
  symbol: string | null = null,
): Promise<{ gaps: GapRow[]; more: boolean }> {
  const r = await pool.query<{ g: Record<string, unknown> }>(
    symbol === null
      ? `SELECT to_jsonb(g) AS g FROM feed_gaps g
         WHERE g.started_at >= $3::timestamptz AND g.started_at < $2::timestamptz AND g.ended_at >= $1::timestamptz
         ORDER BY g.started_at, g.id LIMIT $4`
      : // One range of the (symbol, started_at) unique index for the symbol and one for '*'.
        `SELECT to_jsonb(g) AS g FROM feed_gaps g
         WHERE g.symbol = ANY($5::text[])
           AND g.started_at >= $3::timestamptz AND g.started_at < $2::timestamptz AND g.ended_at >= $1::timestamptz
         ORDER BY g.started_at, g.id LIMIT $4`,
    [
      new Date(from).toISOString(),
      new Date(to).toISOString(),
      // A gap lies inside one session (it ends by the close), so none that overlaps started a day earlier.
      new Date(from - 86_400_000).toISOString(),
      MAX_GAPS + 1,
      ...(symbol === null ? [] : [[symbol, '*']]),
    ],
  );
  const gaps = r.rows.map(({ g }) => ({
    id: Number(g.id),
    symbol: String(g.symbol),
    startedAt: time(g.started_at) ?? 0,
    endedAt: time(g.ended_at) ?? 0,
    reason: String(g.reason ?? ''),
    filledAt: time(g.filled_at),
    filledTrades: typeof g.filled_trades === 'number' ? g.filled_trades : null,
    fillError: typeof g.fill_error === 'string' ? g.fill_error : null,
  }));
  const more = gaps.length > MAX_GAPS;
  if (more) gaps.length = MAX_GAPS;
  return { gaps, more };
}

function time(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : null;
}
