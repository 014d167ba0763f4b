// What the backfill reads and writes of the ledger: unfilled gaps, and each gap's outcome.
// The unfilled `feed_gaps` rows with the rules their collection ran under (`mode`, migration 0011), and each
// gap's outcome (filled_at / filled_trades, or fill_error). The gaps themselves are derived by the ledger
// (session minus coverage); the backfill only consumes them and records tape coverage for what it verified
// (writeTape.ts).
import type pg from 'pg';
import { type GapRow, listGaps } from '../store/write/writeGaps.js';

/** A gap to fill, with the rules its candles were collected under (calendar or --skip-market-hours). */
export type LedgerGap = GapRow;

/** Unfilled gaps touching [fromMs, toMs) when given, oldest first. */
export function unfilledGaps(
  db: Pick<pg.Pool, 'query'>,
  opts: { fromMs?: number; toMs?: number } = {},
): Promise<LedgerGap[]> {
  return listGaps(db, { ...opts, unfilled: true });
}

/** Marks a gap filled (clears any earlier error), unless it grew since it was read. */
export async function markFilled(
  db: Pick<pg.Pool, 'query'>,
  g: GapRow,
  at: number,
  trades: number,
): Promise<void> {
  await db.query(
    `UPDATE feed_gaps SET filled_at = to_timestamp($2 / 1000.0), filled_trades = $3, fill_error = NULL
     WHERE id = $1 AND ended_at <= to_timestamp($4 / 1000.0)`,
    [g.id, at, trades, g.endedAt],
  );
}

/** Says why a gap is not filled (yet). */
export async function markUnfilled(db: Pick<pg.Pool, 'query'>, id: number, error: string): Promise<void> {
  await db.query('UPDATE feed_gaps SET fill_error = $2 WHERE id = $1', [id, error]);
}
