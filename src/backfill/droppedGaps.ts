// Rows the sink could not store become ledger rows, so the backfill rebuilds them from the tape.
import type { SecondCandle, TickCandle } from '../aggregate/types.js';
import type { FeedGap } from '../store/writeGaps.js';

export function gapsOfDropped(table: string, rows: readonly object[], intervalMs: number): FeedGap[] {
  if (table === 'candles_1s') {
    return (rows as SecondCandle[]).map((c) => ({
      symbol: c.symbol,
      startedAt: c.bucket,
      endedAt: c.bucket + intervalMs,
      reason: 'sink dropped',
    }));
  }
  if (table === 'candles_100t') {
    return (rows as TickCandle[]).map((c) => ({
      symbol: c.symbol,
      startedAt: c.startAt,
      endedAt: c.endAt,
      reason: 'sink dropped',
    }));
  }
  return []; // raw ticks are an archive, not candles; a dropped gap row cannot be recorded again
}
