// Creating partitions (ensurePartitions, fileDefaultRows), and the partition lookups they need.
// Ahead of time (the maintenance loop, daily) and for whatever landed in the default partition (a late,
// far-future or backfilled row never fails for want of a partition: it waits in <table>_default until the
// next run files it into its own partition).
// Every DDL here takes a lock on the parent, so each runs in its own short transaction with
// lock_timeout = 1 s: it may wait behind a long read, and the sink's inserts queue behind it, for at most that.
import type pg from 'pg';
import type { Logger } from '../../log/logger.js';
import { withClient } from '../db/connection.js';
import {
  boundLiteral,
  defaultPartitionName,
  nextPeriod,
  type PartitionedTable,
  partitionName,
  periodOfName,
  periodsBetween,
} from './partitionSpec.js';

/** Days of partitions kept ready past today (a weekend, a holiday and a missed maintenance run). */
export const AHEAD_DAYS = 7;

const LOCK_TIMEOUT = '1s';

/** Runs `fn` in a transaction with lock_timeout set; retried a few times when the lock is not granted. */
export async function inLockedTx<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withClient(pool, async (c) => {
        await c.query('BEGIN');
        try {
          await c.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
          const out = await fn(c);
          await c.query('COMMIT');
          return out;
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      });
    } catch (err) {
      if ((err as { code?: string }).code !== '55P03' || attempt >= 5) throw err;
    }
  }
}

export async function isPartitioned(pool: pg.Pool | pg.PoolClient, table: string): Promise<boolean> {
  const r = await pool.query<{ k: string | null }>(
    `SELECT (SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)) AS k`,
    [table],
  );
  return r.rows[0]?.k === 'p';
}

/** Our partitions of `t` (not the default), by period start. */
export async function listPartitions(pool: pg.Pool, t: PartitionedTable): Promise<Map<number, string>> {
  const r = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = to_regclass($1)`,
    [t.table],
  );
  const out = new Map<number, string>();
  for (const { name } of r.rows) {
    const p = periodOfName(t, name);
    if (p !== null) out.set(p, name);
  }
  return out;
}

/** The table's columns in order, for statements that must name them (generic: whatever migrations added). */
export async function columnsOf(pool: pg.Pool | pg.PoolClient, table: string): Promise<string[]> {
  const r = await pool.query<{ name: string }>(
    `SELECT quote_ident(attname) AS name FROM pg_attribute
     WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
     ORDER BY attnum`,
    [table],
  );
  return r.rows.map((x) => x.name);
}

function rangeSql(t: PartitionedTable, start: number): string {
  return `FROM (${boundLiteral(t, start)}) TO (${boundLiteral(t, nextPeriod(t.unit, start))})`;
}

/**
 * Creates the partition of `t` for the period starting at `start`. When the default partition holds rows of
 * that period, they move into it in the same transaction (detach the default, create, move, re-attach).
 */
export async function createPartition(
  pool: pg.Pool,
  t: PartitionedTable,
  start: number,
): Promise<{ name: string; filed: number }> {
  const name = partitionName(t, start);
  const def = defaultPartitionName(t);
  const lo = boundLiteral(t, start);
  const hi = boundLiteral(t, nextPeriod(t.unit, start));
  const inRange = `${t.column} >= ${lo} AND ${t.column} < ${hi}`;
  const filed = await inLockedTx(pool, async (c) => {
    const waiting = await c.query(`SELECT 1 FROM ${def} WHERE ${inRange} LIMIT 1`);
    if (waiting.rowCount === 0) {
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF ${t.table} FOR VALUES ${rangeSql(t, start)}`,
      );
      return 0;
    }
    const cols = (await columnsOf(c, t.table)).join(', ');
    await c.query(`ALTER TABLE ${t.table} DETACH PARTITION ${def}`);
    await c.query(`CREATE TABLE ${name} PARTITION OF ${t.table} FOR VALUES ${rangeSql(t, start)}`);
    // Straight into the partition: the parent's statement triggers (the 1m rollup) do not fire; those rows
    // were rolled up when they were written.
    const moved = await c.query(
      `WITH m AS (DELETE FROM ${def} WHERE ${inRange} RETURNING ${cols}) INSERT INTO ${name} (${cols}) SELECT ${cols} FROM m`,
    );
    await c.query(`ALTER TABLE ${t.table} ATTACH PARTITION ${def} DEFAULT`);
    return moved.rowCount ?? 0;
  });
  return { name, filed };
}

/** Creates every missing partition for the periods from `fromMs` to `toMs`; returns the names created. */
export async function ensurePartitions(
  pool: pg.Pool,
  t: PartitionedTable,
  fromMs: number,
  toMs: number,
): Promise<string[]> {
  const have = await listPartitions(pool, t);
  const made: string[] = [];
  for (const p of periodsBetween(t.unit, fromMs, toMs)) {
    if (have.has(p)) continue;
    made.push((await createPartition(pool, t, p)).name);
  }
  return made;
}

/** Files the rows waiting in the default partition into partitions of their own. */
export async function fileDefaultRows(pool: pg.Pool, t: PartitionedTable, log: Logger): Promise<number> {
  const key = t.columnType === 'date' ? `${t.column}::timestamp` : `${t.column}, 'UTC'`;
  const r = await pool.query<{ p: string }>(
    `SELECT DISTINCT (extract(epoch FROM date_trunc('${t.unit}', ${key})) * 1000)::bigint::text AS p
     FROM ${defaultPartitionName(t)}`,
  );
  let total = 0;
  for (const { p } of r.rows) {
    const { name, filed } = await createPartition(pool, t, Number(p));
    if (filed > 0) {
      log.info(
        { component: 'storage', partition: name, rows: filed },
        `${name}: filed ${filed} rows from the default partition`,
      );
    }
    total += filed;
  }
  return total;
}
