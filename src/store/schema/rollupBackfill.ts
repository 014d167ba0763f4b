// candles_1m for the seconds written before migration 0010, rolled up by the maintenance loop.
// candles_1m for the seconds written before migration 0010 (the triggers cover everything after): rolled up
// a day at a time, newest first, by the maintenance loop, each day one statement, with the progress kept in
// candles_1m_backfill so a restart goes on where it stopped.
import type pg from 'pg';

const DAY = 86_400_000;

/** (symbol, minute) pairs per statement: each takes one advisory lock per pair (tc_rollup_minutes). */
const CHUNK = 1_000;

/** Recomputes every minute with 1-second rows in [fromMs, toMs) (the function the triggers call). */
export async function rollupRange(pool: pg.Pool, fromMs: number, toMs: number): Promise<number> {
  // Ordered by minute, so each chunk is a short stretch of time across symbols.
  const r = await pool.query<{ s: string; m: Date }>(
    `SELECT DISTINCT date_bin('1 minute', bucket, TIMESTAMPTZ 'epoch') AS m, symbol AS s FROM candles_1s
     WHERE bucket >= to_timestamp($1::float8 / 1000) AND bucket < to_timestamp($2::float8 / 1000)
     ORDER BY m, s`,
    [fromMs, toMs],
  );
  for (let i = 0; i < r.rows.length; i += CHUNK) {
    const part = r.rows.slice(i, i + CHUNK);
    await pool.query('SELECT tc_rollup_minutes($1::text[], $2::timestamptz[], false)', [
      part.map((x) => x.s),
      part.map((x) => x.m),
    ]);
  }
  return r.rows.length;
}

/** Rolls up the history below the backfill mark, a day per statement; returns the minutes written. */
export async function backfillMinutes(pool: pg.Pool, signal?: AbortSignal): Promise<number> {
  let minutes = 0;
  while (!signal?.aborted) {
    // The newest second below the mark: days without data are skipped, not visited.
    const r = await pool.query<{ newest: Date | null }>(
      `SELECT (SELECT max(bucket) FROM candles_1s WHERE bucket < b.below) AS newest FROM candles_1m_backfill b`,
    );
    const newest = r.rows[0]?.newest;
    if (!newest) return minutes;
    // Day-aligned chunks (UTC), so a chunk never splits a minute.
    const lo = Math.floor(newest.getTime() / DAY) * DAY;
    const hi = (
      await pool.query<{ below: Date }>('SELECT below FROM candles_1m_backfill')
    ).rows[0]!.below.getTime();
    minutes += await rollupRange(pool, lo, Math.min(hi, lo + DAY));
    await pool.query('UPDATE candles_1m_backfill SET below = to_timestamp($1::float8 / 1000)', [lo]);
  }
  return minutes;
}
