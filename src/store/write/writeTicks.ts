// Writing the raw-trade archive (ticks): COPY, with a staged INSERT when a batch holds stored rows.
// The raw-trade archive goes in by COPY (about 4x an unnest INSERT here): one COPY per batch, binary format
// (copyEncoder.ts). Writes are idempotent on the natural key (symbol, ts, seq) (migration 0004): the fast
// path COPYs straight into `ticks`, whose unique key refuses a row already stored (a batch retried after a
// lost acknowledgement, a spool file replayed twice); on that refusal (23505, the whole COPY rolled back)
// the batch goes again through a temporary staging table and INSERT … ON CONFLICT DO NOTHING.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Trade } from '../../aggregate/types.js';
import { withClient } from '../db/connection.js';
import { StoreError, StoreErrorCode } from '../db/errors.js';
import { ticksToCopyChunks } from './copyEncoder.js';

const COLUMNS = 'symbol, ts, price, size, conditions, dark_pool, received_at, seq';
const copyInto = (table: string) => `COPY ${table} (${COLUMNS}) FROM STDIN (FORMAT binary)`;
/** Per connection, emptied at each commit; LIKE keeps it in step with the table's columns. */
const STAGE =
  'CREATE TEMP TABLE IF NOT EXISTS ticks_stage (LIKE ticks INCLUDING DEFAULTS) ON COMMIT DELETE ROWS';
const MERGE = `INSERT INTO ticks (${COLUMNS}) SELECT ${COLUMNS} FROM ticks_stage ON CONFLICT DO NOTHING`;
const UNIQUE_VIOLATION = '23505';

/**
 * Hands the chunks over with a turn of the event loop every 4 (~256 KiB, ~2,700 trades): on loopback the
 * kernel takes every write at once, so without it a 50,000-trade COPY was encoded and written in one
 * ~60 ms stretch that starved the feed's socket reads.
 */
async function* paced(chunks: Iterable<Buffer>): AsyncGenerator<Buffer> {
  let n = 0;
  for (const chunk of chunks) {
    yield chunk;
    if (++n % 4 === 0) await yieldToLoop();
  }
}

/**
 * Writes one batch of trades by COPY; returns the rows now stored by this call (duplicates of rows already
 * in the table are skipped, not counted).
 */
export async function copyTicks(pool: pg.Pool, rows: readonly Trade[], timeoutMs: number): Promise<number> {
  if (rows.length === 0) return 0;
  try {
    await withClient(pool, (client) => copyStream(client, 'ticks', rows, timeoutMs));
    return rows.length;
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
  }
  return copyTicksStaged(pool, rows, timeoutMs);
}

/** The slow path: COPY into a staging table, then INSERT … ON CONFLICT DO NOTHING; returns rows added. */
export async function copyTicksStaged(
  pool: pg.Pool,
  rows: readonly Trade[],
  timeoutMs: number,
): Promise<number> {
  return withClient(pool, async (client) => {
    await client.query('BEGIN');
    await client.query(STAGE);
    await copyStream(client, 'ticks_stage', rows, timeoutMs);
    const r = await client.query(MERGE);
    await client.query('COMMIT');
    return r.rowCount ?? 0;
  });
}

/** One COPY on a checked-out client (withClient destroys it, never reuses it, if anything fails). */
async function copyStream(
  client: pg.PoolClient,
  table: string,
  rows: readonly Trade[],
  timeoutMs: number,
): Promise<void> {
  const stream = client.query(copyFrom(copyInto(table)));
  // query_timeout does not reach a COPY stream: bound it here, destroying the stream (and the client).
  const timer = setTimeout(
    () =>
      stream.destroy(new StoreError(StoreErrorCode.COPY_TIMEOUT, `COPY did not finish in ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await pipeline(Readable.from(paced(ticksToCopyChunks(rows)), { highWaterMark: 1 }), stream);
  } finally {
    clearTimeout(timer);
  }
}

const INSERT_TICKS = `
INSERT INTO ticks (${COLUMNS})
SELECT s, to_timestamp(t / 1000.0), p, z, c::int4[], d, to_timestamp(r / 1000.0), q
FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::text[], $6::bool[], $7::float8[],
            $8::int8[]) AS u(s, t, p, z, c, d, r, q)
ON CONFLICT DO NOTHING`;

/**
 * The same rows by an unnest INSERT, for the embedded PGlite: its socket server does not speak COPY FROM
 * STDIN (the session hangs). Conditions travel as per-row array literals (unnest would flatten int[][]).
 * Returns the rows stored now (a row already stored is skipped).
 */
export async function insertTicks(pool: pg.Pool, rows: readonly Trade[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await pool.query(INSERT_TICKS, [
    rows.map((t) => t.symbol),
    rows.map((t) => t.ts),
    rows.map((t) => t.price),
    rows.map((t) => t.size),
    rows.map((t) => `{${t.conditions.map((c) => Math.trunc(c)).join(',')}}`),
    rows.map((t) => t.darkPool),
    rows.map((t) => t.receivedAt),
    rows.map((t) => t.seq),
  ]);
  return r.rowCount ?? 0;
}
