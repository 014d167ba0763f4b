// Replacing stored candles with the ones rebuilt from the tape (replaceFromTape), and its dry run.
// Candles rebuilt from the tape replace what the live collector stored, in one transaction per
// (symbol, session date), and only when the caller accepts what was stored there (the backfill's
// completeness check: the tape must be at least as complete as every row it replaces). In that transaction:
// the 1-second rows of each rebuilt window (whole minutes, so candles_1m's triggers recompute each touched
// minute from tape seconds only), the 100-tick series from its first rebuilt seq to the end of the day
// (renumbered from the tape), and a `coverage` row (source 'tape') per verified interval. A dry run reads
// what would go and writes nothing. Rows written here are source 'tape'; the live upserts
// (writeCandles.ts) never replace them.
import type pg from 'pg';
import type { SecondCandle, TickCandle } from '../aggregate/types.js';
import { type CoverageMode, insertCoverage } from '../ledger/coverageStore.js';
import { secondColumns, tickColumns } from '../store/write/writeCandles.js';

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

const WINDOW_1S =
  'symbol = $1 AND bucket >= to_timestamp($2 / 1000.0) AND bucket < to_timestamp($3 / 1000.0)';
const SERIES = 'symbol = $1 AND session_date = $2 AND seq >= $3';

/** Bucket starts [fromMs, toMs) of one symbol, rebuilt. */
export interface SecondWindow {
  fromMs: number;
  toMs: number;
}

/** What was stored where the tape goes: trade counts by 1 s bucket, by minute (candles_1m), by 100-tick seq. */
export interface StoredRows {
  seconds: Map<number, number>;
  minutes: Map<number, number>;
  /** The series from `fromSeq` on. */
  ticks: Map<number, number>;
}

export interface TapeReplacement {
  symbol: string;
  sessionDate: string;
  /** The 1-second windows rebuilt (whole minutes, not overlapping), and every candle of the tape inside them. */
  windows: readonly SecondWindow[];
  seconds: readonly SecondCandle[];
  /** The series from `fromSeq` to the end of the day, from the tape; null leaves the series alone. */
  fromSeq: number | null;
  ticks: readonly TickCandle[];
  /** Tape coverage recorded with the rows: the intervals [fromMs, toMs] the tape verified, and their rules. */
  coverage: { mode: CoverageMode; intervals: readonly SecondWindow[] };
  /** Read what is stored, ask `accept`, write nothing. */
  dryRun: boolean;
}

export interface ReplaceResult {
  stored: StoredRows;
  /** The rows were replaced and the coverage recorded (false: a dry run, or not accepted). */
  written: boolean;
}

type Row = { k: string | number; n: number };
const toMap = (rows: Row[]) => new Map(rows.map((x) => [Math.round(Number(x.k)), Number(x.n)]));

/**
 * Reads (a dry run) or takes out (DELETE … RETURNING: exactly what was there, atomically) the stored rows the
 * tape replaces, asks `accept` whether the tape may replace them, and either rolls everything back or writes
 * the tape's rows and the coverage in the same transaction.
 */
export async function replaceFromTape(
  pool: pg.Pool,
  r: TapeReplacement,
  accept: (stored: StoredRows) => boolean,
): Promise<ReplaceResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const stored: StoredRows = { seconds: new Map(), minutes: new Map(), ticks: new Map() };
    for (const w of r.windows) {
      const args = [r.symbol, w.fromMs, w.toMs];
      // The minutes first: the delete below makes the triggers recompute them.
      const m = await client.query<Row>(
        `SELECT extract(epoch FROM bucket) * 1000 AS k, trade_count AS n FROM candles_1m WHERE ${WINDOW_1S}`,
        args,
      );
      for (const [k, n] of toMap(m.rows)) stored.minutes.set(k, n);
      const s = await client.query<Row>(
        r.dryRun
          ? `SELECT extract(epoch FROM bucket) * 1000 AS k, trade_count AS n FROM candles_1s WHERE ${WINDOW_1S}`
          : `DELETE FROM candles_1s WHERE ${WINDOW_1S} RETURNING extract(epoch FROM bucket) * 1000 AS k, trade_count AS n`,
        args,
      );
      for (const [k, n] of toMap(s.rows)) stored.seconds.set(k, n);
    }
    if (r.fromSeq !== null) {
      const t = await client.query<Row>(
        r.dryRun
          ? `SELECT seq AS k, trade_count AS n FROM candles_100t WHERE ${SERIES}`
          : `DELETE FROM candles_100t WHERE ${SERIES} RETURNING seq AS k, trade_count AS n`,
        [r.symbol, r.sessionDate, r.fromSeq],
      );
      stored.ticks = toMap(t.rows);
    }
    if (r.dryRun || !accept(stored)) {
      await client.query('ROLLBACK');
      return { stored, written: false };
    }
    if (r.seconds.length > 0) await client.query(INSERT_1S, secondColumns(r.seconds));
    if (r.fromSeq !== null && r.ticks.length > 0) await client.query(INSERT_100T, tickColumns(r.ticks));
    for (const iv of r.coverage.intervals) {
      await insertCoverage(client, {
        symbols: [r.symbol],
        startedAt: iv.fromMs,
        endedAt: iv.toMs,
        source: 'tape',
        mode: r.coverage.mode,
        runId: null,
      });
    }
    await client.query('COMMIT');
    return { stored, written: true };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
