// Where a (symbol, session date) 100-tick series must be rebuilt from (seriesCut).
// The last stored candle that starts before the first rebuilt second and whose first print is unambiguous
// (strictly after the previous candle's last one, so "every counted print from its start_at on" is exactly
// candles k, k+1, …). Every candle before it holds only prints from before the gap, which the live collector
// received. None: the whole day.
import type pg from 'pg';

export interface SeriesCut {
  fromSeq: number;
  /** The first print of candle fromSeq is the first counted print at or after this instant. */
  cutTs: number;
}

export async function seriesCut(
  pool: pg.Pool,
  symbol: string,
  date: string,
  beforeMs: number,
  dayStart: number,
): Promise<SeriesCut> {
  const r = await pool.query<{ seq: number; start_ms: number; prev_end_ms: number | null }>(
    `SELECT seq, extract(epoch FROM start_at) * 1000 AS start_ms,
            extract(epoch FROM lag(end_at) OVER (ORDER BY seq)) * 1000 AS prev_end_ms
     FROM candles_100t WHERE symbol = $1 AND session_date = $2 ORDER BY seq`,
    [symbol, date],
  );
  const rows = r.rows.map((x) => ({
    seq: Number(x.seq),
    start: Math.round(Number(x.start_ms)),
    prevEnd: x.prev_end_ms === null ? null : Math.round(Number(x.prev_end_ms)),
  }));
  for (let i = rows.length - 1; i >= 0; i--) {
    const c = rows[i]!;
    if (c.start >= beforeMs) continue;
    // The series before it must be whole (no missing seq) and end strictly before it starts.
    const contiguous = i === c.seq;
    if (c.seq === 0) return { fromSeq: 0, cutTs: dayStart };
    if (contiguous && c.prevEnd !== null && c.prevEnd < c.start) return { fromSeq: c.seq, cutTs: c.start };
  }
  return { fromSeq: 0, cutTs: dayStart };
}
