// /api/candles for the higher timeframes (barRange).
// The same answer as for 1s (the latest `limit` bars of the window, oldest first, `more` when older ones are
// left), read through readBars newest first so that paging back is one index range ending at `to`.
import type pg from 'pg';
import { type Bar, readBars, type Timeframe } from '../store/read/timeframes.js';

export async function barRange(
  pool: pg.Pool,
  q: { symbol: string; timeframe: Timeframe; from: number | null; to: number | null; limit: number },
): Promise<{ candles: Bar[]; more: boolean }> {
  const bars = await readBars(pool, {
    timeframe: q.timeframe,
    symbol: q.symbol,
    from: q.from ?? undefined,
    to: q.to ?? undefined,
    limit: q.limit + 1,
    order: 'desc',
  });
  const more = bars.length > q.limit;
  return { candles: bars.slice(0, q.limit).reverse(), more };
}
