// Candle upserts (1-second and 100-tick): one statement per batch per table.
// INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE, with the no-partial-overwrite rule (a stored
// candle is only replaced by one with at least as many trades: retries and amendments replace, a newcomer's
// partial first second after a restart does not), and a live write never replaces a row rebuilt from the tape
// (source 'tape', written by replaceFromTape below).
// Timestamps travel as epoch-ms float8 arrays (no Date per row) and become timestamptz in SQL; the arrays
// go as literals built in arrayLiteral.ts (pg's own array serialiser was most of the client's CPU time).
import type pg from 'pg';
import type { SecondCandle, TickCandle } from '../../aggregate/types.js';
import { arrayLiterals, numberElement as num, textElement as text } from './arrayLiteral.js';

const UPSERT_1S = `
INSERT INTO candles_1s AS c
  (symbol, bucket, open, high, low, close, volume, trade_count, vwap, first_trade_at, last_trade_at)
SELECT s, to_timestamp(b / 1000.0), o, h, l, cl, v, n, w, to_timestamp(f / 1000.0), to_timestamp(la / 1000.0)
FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
            $8::int4[], $9::float8[], $10::float8[], $11::float8[]) AS u(s, b, o, h, l, cl, v, n, w, f, la)
ON CONFLICT (symbol, bucket) DO UPDATE SET
  open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
  volume = EXCLUDED.volume, trade_count = EXCLUDED.trade_count, vwap = EXCLUDED.vwap,
  first_trade_at = EXCLUDED.first_trade_at, last_trade_at = EXCLUDED.last_trade_at
WHERE EXCLUDED.trade_count >= c.trade_count AND c.source = 'live'`;

const UPSERT_100T = `
INSERT INTO candles_100t AS c
  (symbol, session_date, seq, open, high, low, close, volume, trade_count, vwap, start_at, end_at)
SELECT s, d, q, o, h, l, cl, v, n, w, to_timestamp(st / 1000.0), to_timestamp(en / 1000.0)
FROM unnest($1::text[], $2::date[], $3::int4[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
            $8::float8[], $9::int4[], $10::float8[], $11::float8[], $12::float8[])
     AS u(s, d, q, o, h, l, cl, v, n, w, st, en)
ON CONFLICT (symbol, session_date, seq) DO UPDATE SET
  open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
  volume = EXCLUDED.volume, trade_count = EXCLUDED.trade_count, vwap = EXCLUDED.vwap,
  start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at
WHERE EXCLUDED.trade_count >= c.trade_count AND c.source = 'live'`;

/**
 * The replica write fence as a value the caller hands in (the cluster's `writeFence`, cluster/fence.ts): the
 * store never asks the cluster. `wrap` turns an unnest upsert with `params` parameters into its fenced form
 * (one more parameter, `pid`; it answers one row, `refused`); `pid` is the caller's lock backend pid (-1 when
 * it holds none). No fence: one collector (PGlite), every row written.
 */
export interface WriteFence {
  wrap(sql: string, params: number): string;
  pid: number;
}

// Each statement's fenced form, built once per fence's `wrap` (the same statements, skipping symbols whose
// shard another collector holds).
const wrapped = new WeakMap<WriteFence['wrap'], Map<string, string>>();
function fencedSql(fence: WriteFence, sql: string, params: number): string {
  let bySql = wrapped.get(fence.wrap);
  if (!bySql) {
    bySql = new Map();
    wrapped.set(fence.wrap, bySql);
  }
  let out = bySql.get(sql);
  if (out === undefined) {
    out = fence.wrap(sql, params);
    bySql.set(sql, out);
  }
  return out;
}

/** What a candle statement did: rows sent, and the symbols the write fence refused (their rows not stored). */
export interface CandleWrite {
  written: number;
  refused: string[];
}

/**
 * One row per key, as the database would end up after applying the rows in order under the
 * no-partial-overwrite rule (ON CONFLICT DO UPDATE touching a key twice fails with 21000).
 */
export function dedupeCandles<T extends { tradeCount: number }>(
  rows: readonly T[],
  key: (r: T) => string,
): T[] {
  if (rows.length < 2) return rows.slice();
  const byKey = new Map<string, T>();
  for (const r of rows) {
    const k = key(r);
    const prev = byKey.get(k);
    if (!prev || r.tradeCount >= prev.tradeCount) byKey.set(k, r);
  }
  return byKey.size === rows.length ? rows.slice() : [...byKey.values()];
}

export const key1s = (c: SecondCandle): string => `${c.symbol}\u0000${c.bucket}`;
export const key100t = (c: TickCandle): string => `${c.symbol}\u0000${c.sessionDate}\u0000${c.seq}`;

/** Upserts 1-second candles in one statement. */
export async function upsertSecondCandles(
  pool: pg.Pool,
  batch: readonly SecondCandle[],
  fence?: WriteFence,
): Promise<CandleWrite> {
  const rows = dedupeCandles(batch, key1s);
  return runUpsert(pool, UPSERT_1S, 11, rows, secondColumns, fence);
}

async function runUpsert<T extends { symbol: string }>(
  pool: pg.Pool,
  plain: string,
  paramCount: number,
  rows: T[],
  columns: (rows: readonly T[]) => string[],
  fence: WriteFence | undefined,
): Promise<CandleWrite> {
  if (rows.length === 0) return { written: 0, refused: [] };
  const params = columns(rows);
  if (fence === undefined) {
    await pool.query(plain, params);
    return { written: rows.length, refused: [] };
  }
  const sql = fencedSql(fence, plain, paramCount);
  const r = await pool.query<{ refused: string[] }>(sql, [...params, fence.pid]);
  const refused = r.rows[0]?.refused ?? [];
  if (refused.length === 0) return { written: rows.length, refused };
  const out = new Set(refused);
  let kept = 0;
  for (const c of rows) if (!out.has(c.symbol)) kept++;
  return { written: kept, refused };
}

/** The 11 array parameters of a 1-second candle statement. */
export function secondColumns(rows: readonly SecondCandle[]): string[] {
  const cols: string[][] = Array.from({ length: 11 }, () => new Array<string>(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const c = rows[i]!;
    cols[0]![i] = text(c.symbol);
    cols[1]![i] = num(c.bucket);
    cols[2]![i] = num(c.open);
    cols[3]![i] = num(c.high);
    cols[4]![i] = num(c.low);
    cols[5]![i] = num(c.close);
    cols[6]![i] = num(c.volume);
    cols[7]![i] = num(c.tradeCount);
    cols[8]![i] = num(c.vwap);
    cols[9]![i] = num(c.firstTradeAt);
    cols[10]![i] = num(c.lastTradeAt);
  }
  return arrayLiterals(cols);
}

/** Upserts 100-tick candles in one statement. */
export async function upsertTickCandles(
  pool: pg.Pool,
  batch: readonly TickCandle[],
  fence?: WriteFence,
): Promise<CandleWrite> {
  return runUpsert(pool, UPSERT_100T, 12, dedupeCandles(batch, key100t), tickColumns, fence);
}

/** The 12 array parameters of a 100-tick candle statement. */
export function tickColumns(rows: readonly TickCandle[]): string[] {
  const cols: string[][] = Array.from({ length: 12 }, () => new Array<string>(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const c = rows[i]!;
    cols[0]![i] = text(c.symbol);
    cols[1]![i] = text(c.sessionDate);
    cols[2]![i] = num(c.seq);
    cols[3]![i] = num(c.open);
    cols[4]![i] = num(c.high);
    cols[5]![i] = num(c.low);
    cols[6]![i] = num(c.close);
    cols[7]![i] = num(c.volume);
    cols[8]![i] = num(c.tradeCount);
    cols[9]![i] = num(c.vwap);
    cols[10]![i] = num(c.startAt);
    cols[11]![i] = num(c.endAt);
  }
  return arrayLiterals(cols);
}
