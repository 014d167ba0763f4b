// The raw-trade archive goes in by COPY (about 4x an unnest INSERT here): one COPY per batch, text format.
// The ticks table has no key, so a batch retried after a lost acknowledgement may store some trades twice
// (the candles, which are the contract, are upserts and never double count).

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Trade } from '../aggregate/types.js';
import { withClient } from './connection.js';

const COPY_TICKS = 'COPY ticks (symbol, ts, price, size, conditions, dark_pool, received_at) FROM STDIN';

/** COPY text format: backslash, tab, newline and carriage return must be escaped. */
function copyText(s: string): string {
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (ch) => ESCAPES[ch] ?? ch) : s;
}
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function copyNumber(n: number): string {
  // COPY spells the float8 specials as PostgreSQL does.
  return Number.isFinite(n) ? String(n) : Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

// Epoch ms → an ISO timestamptz literal. Trades arrive in time order, so the "YYYY-MM-DDTHH:MM:SS." prefix
// is cached per second: toISOString per value cost ~3 µs, most of a COPY batch's CPU time.
let cachedSecond = Number.NaN;
let cachedPrefix = '';
function copyTime(epochMs: number): string {
  const ms = Math.round(epochMs);
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const r = ms - second * 1000;
  return `${cachedPrefix}${r < 10 ? '00' : r < 100 ? '0' : ''}${r}Z`;
}

export function ticksToCopyText(rows: readonly Trade[]): string {
  let out = '';
  for (const t of rows) {
    const conds = t.conditions.length === 0 ? '{}' : `{${t.conditions.map((c) => Math.trunc(c)).join(',')}}`;
    out += `${copyText(t.symbol)}\t${copyTime(t.ts)}\t${copyNumber(t.price)}\t${copyNumber(t.size)}\t${conds}\t${
      t.darkPool ? 't' : 'f'
    }\t${copyTime(t.receivedAt)}\n`;
  }
  return out;
}

/** COPYs one batch of trades on a checked-out client (destroyed, not reused, if anything fails). */
export async function copyTicks(pool: pg.Pool, rows: readonly Trade[], timeoutMs: number): Promise<number> {
  if (rows.length === 0) return 0;
  const text = ticksToCopyText(rows);
  await withClient(pool, async (client) => {
    const stream = client.query(copyFrom(COPY_TICKS));
    // query_timeout does not reach a COPY stream: bound it here, destroying the stream (and the client).
    const timer = setTimeout(() => stream.destroy(new Error('Query read timeout (COPY)')), timeoutMs);
    try {
      await pipeline(Readable.from([text]), stream);
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
