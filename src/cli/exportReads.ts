// What `export` reads, kind by kind, one page of one primary-key range at a time (keyset paging).
// The columns are the one candle row shape (store/read/columns.ts): the file a researcher gets has the
// columns of the table they would query (candles_1s, candles_100t, candles_1m and the bars over it).
import type pg from 'pg';
import { etDayOf } from '../aggregate/etDay.js';
import {
  CANDLE_KINDS,
  type CandleKindName,
  COLUMNS,
  type Column,
  type ColumnType,
} from '../store/read/columns.js';
import { afterBar, readBars } from '../store/read/timeframes.js';

export const EXPORT_KINDS = CANDLE_KINDS;
export type ExportKind = CandleKindName;
export { COLUMNS, type Column, type ColumnType };
export type Row = Record<string, string | number | Date | null>;

/** Where the next page starts: after the last row of this one. */
export type Cursor = { at: number } | { date: string; seq: number };

export interface PageQuery {
  kind: ExportKind;
  symbol: string;
  /** [from, to): a 1s candle and a bar by their start, a 100-tick candle by its last trade (end_at). */
  from: number;
  to: number;
  limit: number;
  after: Cursor | null;
}

const TS = (i: number) => `to_timestamp($${i}::float8 / 1000)`;

export async function readPage(pool: pg.Pool, q: PageQuery): Promise<{ rows: Row[]; next: Cursor }> {
  if (q.kind === '1s') {
    const from = q.after && 'at' in q.after ? q.after.at : q.from;
    const r = await pool.query<Row>(
      `SELECT symbol, bucket, open, high, low, close, volume, trade_count, vwap, first_trade_at, last_trade_at,
              source
       FROM candles_1s WHERE symbol = $1 AND bucket >= ${TS(2)} AND bucket < ${TS(3)} ORDER BY bucket LIMIT $4`,
      [q.symbol, from, q.to, q.limit],
    );
    const last = r.rows.at(-1);
    return { rows: r.rows, next: { at: last ? (last.bucket as Date).getTime() + 1 : from } };
  }
  if (q.kind === '100t') {
    const after = q.after && 'date' in q.after ? q.after : { date: '0001-01-01', seq: -1 };
    // The session dates the window can touch bound the key range; membership is by the last trade.
    const r = await pool.query<Row>(
      `SELECT symbol, session_date::text AS session_date, seq, open, high, low, close, volume, trade_count, vwap,
              start_at, end_at, source
       FROM candles_100t
       WHERE symbol = $1 AND session_date >= $2::date AND session_date <= $3::date
         AND end_at >= ${TS(4)} AND end_at < ${TS(5)} AND (session_date, seq) > ($6::date, $7::int)
       ORDER BY session_date, seq LIMIT $8`,
      [
        q.symbol,
        etDayOf(Math.max(0, q.from - 86_400_000)).date,
        etDayOf(Math.min(q.to, 4_102_444_800_000)).date,
        q.from,
        q.to,
        after.date,
        after.seq,
        q.limit,
      ],
    );
    const rows = r.rows.map((x) => ({ ...x, session_date: new Date(`${x.session_date}T00:00:00Z`) }));
    const last = r.rows.at(-1);
    return { rows, next: last ? { date: String(last.session_date), seq: Number(last.seq) } : after };
  }
  const tf = q.kind;
  const from = q.after && 'at' in q.after ? q.after.at : q.from;
  const bars = await readBars(pool, {
    timeframe: tf,
    symbol: q.symbol,
    from,
    to: q.to,
    limit: q.limit,
    order: 'asc',
  });
  const rows = bars.map((b) => ({
    symbol: b.symbol,
    bucket: new Date(b.bucket),
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    trade_count: b.tradeCount,
    vwap: b.vwap,
  }));
  const last = bars.at(-1);
  return { rows, next: { at: last ? afterBar(tf, last.bucket) : from } };
}
