// Turning an existing heap (candles_1s, candles_100t, ticks) into its partitioned form.
// Without stopping the collector: one short transaction swaps the names (the old table becomes
// <table>_unpartitioned, a new partitioned <table> takes whatever columns, defaults, checks, keys and
// triggers the old one has at that point), then the old rows move over in small batches, newest first, each
// batch one statement (DELETE … RETURNING feeding INSERT), so a row is always in exactly one of the two
// tables and none is lost. While it runs, reads of older history are incomplete; new writes go to the new
// table from the swap on.
// A row written to the new table for a key still waiting in the old one is the later write: it is kept.
import type pg from 'pg';
import type { Logger } from '../../log/logger.js';
import {
  boundLiteral,
  defaultPartitionName,
  nextPeriod,
  type PartitionedTable,
  partitionName,
  periodsBetween,
} from './partitionSpec.js';
import { AHEAD_DAYS, columnsOf, ensurePartitions, inLockedTx, isPartitioned } from './partitions.js';

const DAY = 86_400_000;

/** The candle tables' keys (for keeping the fuller version when the old heap and the new table both hold one). */
const CANDLE_KEYS: Partial<Record<PartitionedTable['table'], string[]>> = {
  candles_1s: ['symbol', 'bucket'],
  candles_100t: ['symbol', 'session_date', 'seq'],
};

export const legacyName = (t: PartitionedTable): string => `${t.table}_unpartitioned`;

/** The swap, under an ACCESS EXCLUSIVE lock held for a few milliseconds (lock_timeout 1 s, retried). */
async function swap(pool: pg.Pool, t: PartitionedTable, now: number): Promise<void> {
  const old = legacyName(t);
  await inLockedTx(pool, async (c) => {
    await c.query(`LOCK TABLE ${t.table} IN ACCESS EXCLUSIVE MODE`);
    // Index (and so key) names are schema-wide: free them for the new table.
    const idx = await c.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE i.indrelid = to_regclass($1)`,
      [t.table],
    );
    for (const { name } of idx.rows) {
      await c.query(`ALTER INDEX ${name} RENAME TO ${`${name.slice(0, 40)}_unpartitioned`}`);
    }
    const triggers = await c.query<{ name: string; def: string }>(
      `SELECT quote_ident(tgname) AS name, pg_get_triggerdef(oid) AS def FROM pg_trigger
       WHERE tgrelid = to_regclass($1) AND NOT tgisinternal`,
      [t.table],
    );
    await c.query(`ALTER TABLE ${t.table} RENAME TO ${old}`);
    await c.query(`CREATE TABLE ${t.table} (LIKE ${old} INCLUDING ALL) PARTITION BY RANGE (${t.column})`);
    for (const ix of t.indexes) await c.query(`CREATE INDEX ${ix.name} ON ${t.table} (${ix.columns})`);
    await c.query(`CREATE TABLE ${defaultPartitionName(t)} PARTITION OF ${t.table} DEFAULT`);
    for (const p of periodsBetween(t.unit, now - DAY, now + AHEAD_DAYS * DAY)) {
      await c.query(
        `CREATE TABLE ${partitionName(t, p)} PARTITION OF ${t.table}
         FOR VALUES FROM (${boundLiteral(t, p)}) TO (${boundLiteral(t, nextPeriod(t.unit, p))})`,
      );
    }
    // The triggers (the 1m rollup on candles_1s) follow the name: the old table gets no more writes.
    for (const tr of triggers.rows) {
      await c.query(`DROP TRIGGER ${tr.name} ON ${old}`);
      await c.query(tr.def); // read before the rename: its ON names the new table now
    }
  });
}

async function symbolsOf(pool: pg.Pool, table: string): Promise<string[]> {
  // A loose index scan over the (symbol, …) key: one probe per symbol, not a pass over the table.
  const r = await pool.query<{ s: string }>(
    `WITH RECURSIVE s AS (
       SELECT min(symbol) AS s FROM ${table}
       UNION ALL SELECT (SELECT min(symbol) FROM ${table} WHERE symbol > s.s) FROM s WHERE s.s IS NOT NULL)
     SELECT s FROM s WHERE s IS NOT NULL`,
  );
  return r.rows.map((x) => x.s);
}

async function keyRange(
  pool: pg.Pool,
  t: PartitionedTable,
  symbols: string[],
): Promise<[number, number] | null> {
  const ms = (e: string) =>
    `(extract(epoch FROM ${t.columnType === 'date' ? `(${e})::timestamp` : e}) * 1000)::bigint::text`;
  // Per symbol, so each min/max is one probe of the (symbol, key) index.
  const r = await pool.query<{ lo: string | null; hi: string | null }>(
    `SELECT ${ms('min(k.lo)')} AS lo, ${ms('max(k.hi)')} AS hi
     FROM unnest($1::text[]) AS u(s) CROSS JOIN LATERAL (
       SELECT min(${t.column}) AS lo, max(${t.column}) AS hi FROM ${legacyName(t)} WHERE symbol = u.s) AS k`,
    [symbols],
  );
  const row = r.rows[0];
  return row?.lo && row.hi ? [Number(row.lo), Number(row.hi)] : null;
}

export interface ConvertResult {
  table: string;
  /** Whether this call made the table partitioned. */
  swapped: boolean;
  /** Rows moved from the old table. */
  moved: number;
  /** Of those, rows whose key the new table already had from a later write (the later one kept). */
  superseded: number;
}

/**
 * Converts `t` to its partitioned form, or finishes a conversion that was interrupted (the old table is
 * still there). A no-op for a table that is already partitioned with nothing left to move.
 */
export async function convertToPartitioned(
  pool: pg.Pool,
  t: PartitionedTable,
  opts: { now: number; log: Logger; batchRows?: number },
): Promise<ConvertResult> {
  const log = opts.log.child({ table: t.table });
  const old = legacyName(t);
  const result: ConvertResult = { table: t.table, swapped: false, moved: 0, superseded: 0 };
  if (!(await isPartitioned(pool, t.table))) {
    await swap(pool, t, opts.now);
    result.swapped = true;
    log.info(`${t.table} is now partitioned by ${t.unit}; moving its rows from ${old}`);
  }
  const exists = await pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [old]);
  if (!exists.rows[0]?.t) return result;

  const symbols = await symbolsOf(pool, old);
  const range = await keyRange(pool, t, symbols);
  // A partition for every period from the oldest row to the newest, within reason: a stray timestamp
  // decades away goes to the default partition and gets a partition of its own, not thousands.
  if (range) {
    const lo = Math.max(range[0], opts.now - 20 * 366 * DAY);
    const hi = Math.min(range[1], opts.now + AHEAD_DAYS * DAY);
    if (lo <= hi) await ensurePartitions(pool, t, lo, hi);
  }
  const columns = await columnsOf(pool, old);
  const cols = columns.join(', ');
  const batch = opts.batchRows ?? 20_000;
  // A key both hold: the fuller candle wins (a restart's partial first second written to the new table must not
  // displace the previous run's fuller one); raw ticks are the same row either way.
  const key = CANDLE_KEYS[t.table];
  const onConflict = key
    ? `ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${columns
        .filter((c) => !key.includes(c))
        .map((c) => `${c} = EXCLUDED.${c}`)
        .join(', ')} WHERE EXCLUDED.trade_count > ${t.table}.trade_count`
    : 'ON CONFLICT DO NOTHING';
  const step = `WITH m AS (
      DELETE FROM ${old} WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM ${old} WHERE symbol = $1 ORDER BY ${t.column} DESC LIMIT ${batch}))
      RETURNING ${cols}),
    i AS (INSERT INTO ${t.table} (${cols}) SELECT ${cols} FROM m ${onConflict} RETURNING 1)
    SELECT (SELECT count(*) FROM m)::int AS moved, (SELECT count(*) FROM i)::int AS inserted`;
  // A small heap (a fresh database converted at its first start, its first seconds in it) goes in one
  // statement: per symbol, 5,000 symbols took longer than a short first run and left rows behind.
  const total = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${old}`);
  const all = `WITH m AS (DELETE FROM ${old} WHERE symbol IS NOT NULL RETURNING ${cols}),
    i AS (INSERT INTO ${t.table} (${cols}) SELECT ${cols} FROM m ${onConflict} RETURNING 1)
    SELECT (SELECT count(*) FROM m)::int AS moved, (SELECT count(*) FROM i)::int AS inserted`;
  if (total.rows[0]!.n <= batch) {
    const r = await inLockedTx(pool, async (c) => {
      await c.query(`SET LOCAL tc.skip_rollup = 'on'`);
      return (await c.query<{ moved: number; inserted: number }>(all)).rows[0]!;
    });
    result.moved += r.moved;
    result.superseded += r.moved - r.inserted;
  }
  for (const s of total.rows[0]!.n <= batch ? [] : symbols) {
    for (;;) {
      const r = await inLockedTx(pool, async (c) => {
        // These rows are already in candles_1m: moving them must not recompute their minutes.
        await c.query(`SET LOCAL tc.skip_rollup = 'on'`);
        return (await c.query<{ moved: number; inserted: number }>(step, [s])).rows[0]!;
      });
      result.moved += r.moved;
      result.superseded += r.moved - r.inserted;
      if (r.moved < batch) break;
    }
  }
  const left = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${old}`);
  if (left.rows[0]!.n === 0) {
    await inLockedTx(pool, (c) => c.query(`DROP TABLE ${old}`));
    log.info(
      { moved: result.moved, superseded: result.superseded },
      `${t.table}: ${result.moved} rows moved, ${old} dropped`,
    );
  } else {
    log.warn({ left: left.rows[0]!.n }, `${old} still holds rows without a symbol; left in place`);
  }
  return result;
}
