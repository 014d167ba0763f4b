// The coverage table (migration 0011): what the database has confirmed, per symbol set and interval.
// Live rows are opened by the ledger when a connection's segment starts and only ever extended; tape rows are
// written by the backfill once a window's candles are replaced in the same transaction.
import type pg from 'pg';

export type CoverageSource = 'live' | 'tape';
/** The rules the candles were made under: the calendar's session filter, or --skip-market-hours. */
export type CoverageMode = 'calendar' | 'skip';

export interface CoverageRow {
  id: number;
  symbols: string[];
  startedAt: number;
  endedAt: number;
  source: CoverageSource;
  mode: CoverageMode;
  runId: string | null;
}

/** A client or a pool: the backfill records tape coverage inside its replace transaction. */
type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** Inserts one coverage row; returns its id. */
export async function insertCoverage(db: Queryable, c: Omit<CoverageRow, 'id'>): Promise<number> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO coverage (symbols, started_at, ended_at, source, mode, run_id)
     VALUES ($1, to_timestamp($2 / 1000.0), to_timestamp($3 / 1000.0), $4, $5, $6) RETURNING id::text`,
    [c.symbols, c.startedAt, c.endedAt, c.source, c.mode, c.runId],
  );
  return Number(r.rows[0]!.id);
}

/** Moves the ends of live rows forward (never back), one statement for all of them. */
export async function extendCoverage(
  db: Queryable,
  ends: readonly { id: number; endedAt: number }[],
): Promise<void> {
  if (ends.length === 0) return;
  await db.query(
    `UPDATE coverage c SET ended_at = GREATEST(c.ended_at, to_timestamp(u.e / 1000.0))
     FROM unnest($1::int8[], $2::float8[]) AS u(i, e) WHERE c.id = u.i`,
    [ends.map((e) => e.id), ends.map((e) => e.endedAt)],
  );
}

/** Coverage rows touching [fromMs, toMs), oldest first; only those naming one of `symbols` when given. */
export async function readCoverage(
  db: Queryable,
  fromMs: number,
  toMs: number,
  symbols?: readonly string[],
): Promise<CoverageRow[]> {
  const params: unknown[] = [fromMs, toMs];
  let where = 'ended_at >= to_timestamp($1 / 1000.0) AND started_at < to_timestamp($2 / 1000.0)';
  if (symbols) {
    params.push(symbols);
    where += ` AND symbols && $${params.length}::text[]`;
  }
  const r = await db.query<{
    id: string;
    symbols: string[];
    s: string;
    e: string;
    source: CoverageSource;
    mode: CoverageMode;
    run_id: string | null;
  }>(
    `SELECT id::text, symbols, (extract(epoch FROM started_at) * 1000)::text AS s,
            (extract(epoch FROM ended_at) * 1000)::text AS e, source, mode, run_id
     FROM coverage WHERE ${where} ORDER BY started_at, id`,
    params,
  );
  return r.rows.map((x) => ({
    id: Number(x.id),
    symbols: x.symbols,
    startedAt: Math.round(Number(x.s)),
    endedAt: Math.round(Number(x.e)),
    source: x.source,
    mode: x.mode,
    runId: x.run_id,
  }));
}
