// The raw-trade archive goes in by COPY (about 4x an unnest INSERT here): one COPY per batch, binary format
// (copyEncoder.ts).
// The ticks table has no key, so a batch retried after a lost acknowledgement may store some trades twice
// (the candles, which are the contract, are upserts and never double count).

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Trade } from '../aggregate/types.js';
import { withClient } from './connection.js';
import { ticksToCopyChunks } from './copyEncoder.js';

const COPY_TICKS =
  'COPY ticks (symbol, ts, price, size, conditions, dark_pool, received_at) FROM STDIN (FORMAT binary)';

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

/** COPYs one batch of trades on a checked-out client (destroyed, not reused, if anything fails). */
export async function copyTicks(pool: pg.Pool, rows: readonly Trade[], timeoutMs: number): Promise<number> {
  if (rows.length === 0) return 0;
  await withClient(pool, async (client) => {
    const stream = client.query(copyFrom(COPY_TICKS));
    // query_timeout does not reach a COPY stream: bound it here, destroying the stream (and the client).
    const timer = setTimeout(() => stream.destroy(new Error('Query read timeout (COPY)')), timeoutMs);
    try {
      await pipeline(Readable.from(paced(ticksToCopyChunks(rows)), { highWaterMark: 1 }), stream);
    } finally {
      clearTimeout(timer);
    }
  });
  return rows.length;
}

const INSERT_TICKS = `
INSERT INTO ticks (symbol, ts, price, size, conditions, dark_pool, received_at)
SELECT s, to_timestamp(t / 1000.0), p, z, c::int4[], d, to_timestamp(r / 1000.0)
FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::text[], $6::bool[], $7::float8[])
     AS u(s, t, p, z, c, d, r)`;

/**
 * The same rows by an unnest INSERT, for the embedded PGlite: its socket server does not speak COPY FROM
 * STDIN (the session hangs). Conditions travel as per-row array literals (unnest would flatten int[][]).
 */
export async function insertTicks(pool: pg.Pool, rows: readonly Trade[]): Promise<number> {
  if (rows.length === 0) return 0;
  await pool.query(INSERT_TICKS, [
    rows.map((t) => t.symbol),
    rows.map((t) => t.ts),
    rows.map((t) => t.price),
    rows.map((t) => t.size),
    rows.map((t) => `{${t.conditions.map((c) => Math.trunc(c)).join(',')}}`),
    rows.map((t) => t.darkPool),
    rows.map((t) => t.receivedAt),
  ]);
  return rows.length;
}
