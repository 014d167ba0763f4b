// Feed gaps: one row per (symbol, started_at); a gap reported again (e.g. re-sent after a retry, or
// extended) keeps the latest end.
import type pg from 'pg';
import type { FeedGap } from '../aggregate/types.js';

export type { FeedGap } from '../aggregate/types.js';

const UPSERT_GAPS = `
INSERT INTO feed_gaps AS g (symbol, started_at, ended_at, reason)
SELECT s, to_timestamp(st / 1000.0), to_timestamp(en / 1000.0), r
FROM unnest($1::text[], $2::float8[], $3::float8[], $4::text[]) AS u(s, st, en, r)
ON CONFLICT (symbol, started_at) DO UPDATE SET
  ended_at = GREATEST(g.ended_at, EXCLUDED.ended_at), reason = EXCLUDED.reason`;

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
  ]);
  return rows.length;
}
