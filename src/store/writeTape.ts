// Candles rebuilt from the tape replace what the live collector stored, in one transaction per
// (symbol, session date): the 1-second rows of each rebuilt window (live rows the tape does not have are
// deleted), and the 100-tick series from its first rebuilt seq to the end of the day (renumbered from the tape).
// Rows written here are source 'tape'; the live upserts (writeCandles.ts) never replace them.
import type pg from 'pg';
import type { SecondCandle, TickCandle } from '../aggregate/types.js';
import { secondColumns, tickColumns } from './writeCandles.js';

const INSERT_1S = `
INSERT INTO candles_1s AS c
  (symbol, bucket, open, high, low, close, volume, trade_count, vwap, first_trade_at, last_trade_at, source)
SELECT s, to_timestamp(b / 1000.0), o, h, l, cl, v, n, w, to_timestamp(f / 1000.0), to_timestamp(la / 1000.0),
       'tape'
FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
            $8::int4[], $9::float8[], $10::float8[], $11::float8[]) AS u(s, b, o, h, l, cl, v, n, w, f, la)`;

const INSERT_100T = `
INSERT INTO candles_100t AS c
  (symbol, session_date, seq, open, high, low, close, volume, trade_count, vwap, start_at, end_at, source)
SELECT s, d, q, o, h, l, cl, v, n, w, to_timestamp(st / 1000.0), to_timestamp(en / 1000.0), 'tape'
FROM unnest($1::text[], $2::date[], $3::int4[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
            $8::float8[], $9::int4[], $10::float8[], $11::float8[], $12::float8[])
     AS u(s, d, q, o, h, l, cl, v, n, w, st, en)`;

/** Bucket starts [fromMs, toMs) of one symbol, rebuilt. */
export interface SecondWindow {
  fromMs: number;
  toMs: number;
}

export interface TapeReplacement {
  symbol: string;
  sessionDate: string;
  /** The 1-second windows rebuilt, and every candle of the tape inside them. */
  windows: readonly SecondWindow[];
  seconds: readonly SecondCandle[];
  /** The series from `fromSeq` to the end of the day, from the tape; null leaves the series alone. */
  fromSeq: number | null;
  ticks: readonly TickCandle[];
}

/** Replaces the stored rows with the tape's, atomically. Returns the rows written. */
export async function replaceFromTape(pool: pg.Pool, r: TapeReplacement): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const w of r.windows) {
      await client.query(
        'DELETE FROM candles_1s WHERE symbol = $1 AND bucket >= to_timestamp($2 / 1000.0) AND bucket < to_timestamp($3 / 1000.0)',
        [r.symbol, w.fromMs, w.toMs],
      );
    }
    if (r.seconds.length > 0) await client.query(INSERT_1S, secondColumns(r.seconds));
    if (r.fromSeq !== null) {
      await client.query('DELETE FROM candles_100t WHERE symbol = $1 AND session_date = $2 AND seq >= $3', [
        r.symbol,
        r.sessionDate,
        r.fromSeq,
      ]);
      if (r.ticks.length > 0) await client.query(INSERT_100T, tickColumns(r.ticks));
    }
    await client.query('COMMIT');
    return r.seconds.length + r.ticks.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
