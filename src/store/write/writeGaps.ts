// Feed gaps (the ledger) in feed_gaps: upserts, listing, and the row shape.
// One row per (symbol, started_at); a gap reported again (e.g. re-sent after a retry, or extended) keeps the
// latest end. A row for a whole connection ('*', or the chunk's symbols joined) keeps the list of symbols it
// covers, so the backfill knows what to fetch. A gap that grows after it was filled is unfilled again.
import type pg from 'pg';
import type { FeedGap } from '../../aggregate/types.js';

export type { FeedGap } from '../../aggregate/types.js';

const UPSERT_GAPS = `
INSERT INTO feed_gaps AS g (symbol, started_at, ended_at, reason, symbols)
SELECT s, to_timestamp(st / 1000.0), to_timestamp(en / 1000.0), r,
       CASE WHEN sy = '' THEN '{}'::text[] ELSE string_to_array(sy, ',') END
FROM unnest($1::text[], $2::float8[], $3::float8[], $4::text[], $5::text[]) AS u(s, st, en, r, sy)
ON CONFLICT (symbol, started_at) DO UPDATE SET
  ended_at = GREATEST(g.ended_at, EXCLUDED.ended_at), reason = EXCLUDED.reason, symbols = EXCLUDED.symbols,
  filled_at = CASE WHEN EXCLUDED.ended_at > g.ended_at THEN NULL ELSE g.filled_at END`;

export async function upsertGaps(pool: pg.Pool, batch: readonly FeedGap[]): Promise<number> {
  const byKey = new Map<string, FeedGap>();
  for (const g of batch) byKey.set(`${g.symbol}\u0000${g.startedAt}`, g);
  const rows = [...byKey.values()];
  if (rows.length === 0) return 0;
  await pool.query(UPSERT_GAPS, [
    rows.map((g) => g.symbol),
    rows.map((g) => g.startedAt),
    rows.map((g) => g.endedAt),
    rows.map((g) => g.reason),
    rows.map((g) => (g.symbols ?? []).join(',')),
  ]);
  return rows.length;
}

/** A ledger row as stored. */
export interface GapRow {
  id: number;
  symbol: string;
  /** Every symbol it covers (never empty). */
  symbols: string[];
  startedAt: number;
  endedAt: number;
  reason: string;
  filledAt: number | null;
  filledTrades: number | null;
  fillError: string | null;
  /** The rules its collection ran under: the calendar's session filter, or --skip-market-hours. */
  mode: 'calendar' | 'skip';
}

/** The ledger columns as read (every reader selects these and maps them with toGapRow). */
export const GAP_COLUMNS =
  'id::text, symbol, symbols, started_at, ended_at, reason, filled_at, filled_trades, fill_error, mode';

export interface GapRaw {
  id: string;
  symbol: string;
  symbols: string[];
  started_at: Date;
  ended_at: Date;
  reason: string;
  filled_at: Date | null;
  filled_trades: number | null;
  fill_error: string | null;
  mode: string;
}

/**
 * Ledger rows, oldest first: those touching [fromMs, toMs) when given, only unfilled ones when asked.
 */
export async function listGaps(
  pool: Pick<pg.Pool, 'query'>,
  opts: { fromMs?: number; toMs?: number; unfilled?: boolean } = {},
): Promise<GapRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (opts.fromMs !== undefined) {
    params.push(opts.fromMs);
    where.push(`ended_at >= to_timestamp($${params.length} / 1000.0)`);
  }
  if (opts.toMs !== undefined) {
    params.push(opts.toMs);
    where.push(`started_at < to_timestamp($${params.length} / 1000.0)`);
  }
  if (opts.unfilled) where.push('filled_at IS NULL');
  const r = await pool.query<GapRaw>(
    `SELECT ${GAP_COLUMNS}
     FROM feed_gaps ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at, id`,
    params,
  );
  return r.rows.map(toGapRow);
}

export function toGapRow(x: GapRaw): GapRow {
  return {
    id: Number(x.id),
    symbol: x.symbol,
    symbols: x.symbols.length > 0 ? x.symbols : x.symbol.split(','),
    startedAt: x.started_at.getTime(),
    endedAt: x.ended_at.getTime(),
    reason: x.reason,
    filledAt: x.filled_at?.getTime() ?? null,
    filledTrades: x.filled_trades,
    fillError: x.fill_error,
    mode: x.mode === 'skip' ? 'skip' : 'calendar',
  };
}
