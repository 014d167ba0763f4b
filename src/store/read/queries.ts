// The reads main and the CLI need: open tick candles, latest candles, a symbol's range, a ping.
// The reads main needs: the open tick candles to resume after a restart, the latest candles for the
// `tick-collector candles` CLI, a symbol's range for `export`, and a ping for /readyz (migration status is migrationsApplied in migrate.ts).
import type pg from 'pg';
import type { Candle, SecondCandle, TickCandle } from '../../aggregate/types.js';
import { describeError } from '../db/errors.js';

/** The columns both candle tables share. */
/** The columns every candle table shares (candleRange.ts and timeframes.ts read them too). */
export interface OhlcvRow {
  symbol: string;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number;
  trade_count: number;
  vwap: number | null;
}

interface Row100t extends OhlcvRow {
  session_date: string;
  seq: number;
  start_at: Date;
  end_at: Date;
}

interface Row1s extends OhlcvRow {
  bucket: Date;
  first_trade_at: Date;
  last_trade_at: Date;
}

// session_date as text: node-postgres would turn a date into a local-midnight Date.
const COLS_100T = `symbol, session_date::text AS session_date, seq, open, high, low, close, volume, trade_count,
  vwap, start_at, end_at`;

function toTickCandle(r: Row100t): TickCandle {
  return {
    kind: '100t',
    ...ohlcv(r),
    sessionDate: r.session_date,
    seq: r.seq,
    startAt: r.start_at.getTime(),
    endAt: r.end_at.getTime(),
  };
}

function ohlcv(r: OhlcvRow) {
  const { symbol, open, high, low, close, volume, vwap } = r;
  return { symbol, open, high, low, close, volume, tradeCount: r.trade_count, vwap };
}

function toSecondCandle(r: Row1s): SecondCandle {
  return {
    kind: '1s',
    ...ohlcv(r),
    bucket: r.bucket.getTime(),
    firstTradeAt: r.first_trade_at.getTime(),
    lastTradeAt: r.last_trade_at.getTime(),
  };
}

/**
 * The latest tick candle of each symbol for `sessionDate` (YYYY-MM-DD): the aggregator resumes it when
 * tradeCount < the candle size, or starts seq + 1 when it is complete.
 */
export async function loadOpenTickCandles(
  pool: pg.Pool,
  sessionDate: string,
  symbols?: readonly string[],
): Promise<TickCandle[]> {
  // With the symbols, one primary-key probe each: a scan on session_date alone reads the whole history's
  // index and would outgrow the query timeout after months of data.
  const r = symbols
    ? await pool.query<Row100t>(
        `SELECT c.* FROM unnest($2::text[]) AS s(sym) CROSS JOIN LATERAL (
           SELECT ${COLS_100T} FROM candles_100t
           WHERE symbol = s.sym AND session_date = $1::date ORDER BY seq DESC LIMIT 1) AS c`,
        [sessionDate, symbols],
      )
    : await pool.query<Row100t>(
        `SELECT DISTINCT ON (symbol) ${COLS_100T} FROM candles_100t WHERE session_date = $1::date ORDER BY symbol, seq DESC`,
        [sessionDate],
      );
  return r.rows.map(toTickCandle);
}

export interface LatestQuery {
  symbol?: string;
  kind: '1s' | '100t';
  limit: number;
  /** Where the newest-first windows of candles_1s start from (epoch ms; default the system clock). */
  now?: number;
}

const DAY = 86_400_000;
/**
 * candles_1s is read in windows reaching back from `now` (a day, a week, five weeks, 400 days, then all),
 * each with its bound as a parameter, so the plan holds only those days' partitions: over a year of daily
 * partitions the unbounded query spent ~15-26 ms opening all of them (bench/storage.bench.ts).
 */
const WINDOW_DAYS = [1, 7, 35, 400, null];

/** Newest first. */
export async function latestCandles(pool: pg.Pool, q: LatestQuery): Promise<Candle[]> {
  const limit = Math.max(1, Math.min(100_000, Math.floor(q.limit)));
  const where = q.symbol ? 'WHERE symbol = $2' : '';
  const params: unknown[] = q.symbol ? [limit, q.symbol] : [limit];
  if (q.kind === '1s') {
    const now = q.now ?? Date.now();
    for (const days of WINDOW_DAYS) {
      const since =
        days === null
          ? ''
          : `${where ? 'AND' : 'WHERE'} bucket >= to_timestamp($${params.length + 1}::float8 / 1000)`;
      const r = await pool.query<Row1s>(
        `SELECT * FROM candles_1s ${where} ${since} ORDER BY bucket DESC, symbol LIMIT $1`,
        days === null ? params : [...params, now - days * DAY],
      );
      if (r.rows.length >= limit || days === null) return r.rows.map(toSecondCandle);
    }
  }
  const r = await pool.query<Row100t>(
    `SELECT ${COLS_100T} FROM candles_100t ${where} ORDER BY end_at DESC, symbol, seq DESC LIMIT $1`,
    params,
  );
  return r.rows.map(toTickCandle);
}

/** One symbol's 1-second candles with from <= bucket < to (epoch ms), oldest first: a primary-key range. */
export async function readSeconds(
  pool: pg.Pool,
  q: { symbol: string; from: number; to: number; limit: number },
): Promise<SecondCandle[]> {
  const r = await pool.query<Row1s>(
    `SELECT * FROM candles_1s WHERE symbol = $1 AND bucket >= to_timestamp($2::float8 / 1000)
       AND bucket < to_timestamp($3::float8 / 1000) ORDER BY bucket LIMIT $4`,
    [q.symbol, q.from, q.to, Math.max(1, Math.min(100_000, Math.floor(q.limit)))],
  );
  return r.rows.map(toSecondCandle);
}

export type PingResult = { ok: true; latencyMs: number } | { ok: false; error: string };

/** For /readyz: never throws. */
export async function ping(pool: pg.Pool): Promise<PingResult> {
  const t0 = performance.now();
  try {
    await pool.query('SELECT 1');
    return { ok: true, latencyMs: Math.round((performance.now() - t0) * 10) / 10 };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}
