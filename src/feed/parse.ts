// One EODHD frame → a Trade, a status frame, or an invalid message with a reason. Never throws.
// Hot path (every frame): one JSON.parse and a few typeof checks; no regex, no per-message closures.
import { UPDATES_ALL } from '../aggregate/conditions.js';
import type { Trade } from '../aggregate/types.js';

export const INVALID_REASONS = [
  'not_json',
  'not_object',
  'missing_symbol',
  'bad_price',
  'nonpositive_price',
  'absurd_price',
  'bad_size',
  'absurd_size',
  'bad_timestamp',
  'absurd_timestamp',
  'bad_status',
] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

export type ParsedMessage =
  | { kind: 'trade'; trade: Trade }
  | { kind: 'status'; code: number; message: string }
  | { kind: 'invalid'; reason: InvalidReason };

/** Timestamps before this are seconds (or garbage), not epoch milliseconds: 2000-01-01T00:00:00Z. */
const MIN_TS_MS = 946_684_800_000;
/**
 * What a real print can be. The dearest US share (BRK.A) trades under $1M and sub-penny prints go to $0.0001;
 * the largest block trades are a few hundred million shares. Beyond these a field is broken, and kept out:
 * v=1e308 once made a vwap of Infinity (sum of price × size overflows).
 */
export const MAX_PRICE = 10_000_000;
export const MIN_PRICE = 0.000_001;
export const MAX_SIZE = 10_000_000_000;
/** A trade stamped more than a day after we received it is not a clock skew but a broken field. */
const MAX_FUTURE_MS = 86_400_000;

// Shared result objects for the invalid cases: they carry no per-message data, so no allocation.
const INVALID: Record<InvalidReason, ParsedMessage> = Object.fromEntries(
  INVALID_REASONS.map((r) => [r, Object.freeze({ kind: 'invalid', reason: r })]),
) as Record<InvalidReason, ParsedMessage>;

/** A number, or a numeric string (crypto/forex fields arrive quoted); anything else → NaN. */
export function toNumber(x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'string' && x.length > 0 && x.trim().length > 0) return Number(x);
  return Number.NaN;
}

/** EODHD `c`: a list (possibly empty), a bare number, or absent. */
function conditions(c: unknown): number[] {
  if (Array.isArray(c)) {
    for (let i = 0; i < c.length; i++) {
      if (typeof c[i] !== 'number') return c.map(toNumber).filter(Number.isFinite);
    }
    return c as number[];
  }
  const n = toNumber(c);
  return Number.isFinite(n) ? [n] : [];
}

export function parseMessage(raw: string, seq: number, receivedAt: number): ParsedMessage {
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    return INVALID.not_json;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return INVALID.not_object;
  const o = m as Record<string, unknown>;

  const s = o.s;
  if (s === undefined) {
    // Status frames: {"status_code":200,"message":"Authorized"} or {"status":403,"message":"Server error"}.
    const st = o.status_code !== undefined ? o.status_code : o.status;
    if (st !== undefined) {
      const code = toNumber(st);
      if (!Number.isInteger(code)) return INVALID.bad_status;
      return { kind: 'status', code, message: typeof o.message === 'string' ? o.message : '' };
    }
    return INVALID.missing_symbol;
  }
  return tradeOf(s, o.p, o.v, o.t, o.c, o.dp, o.ms, seq, receivedAt);
}

/** A trade frame's fields (`s` present) → a Trade or the reason it is invalid: the one set of rules. */
export function tradeOf(
  s: unknown,
  p: unknown,
  v: unknown,
  t: unknown,
  c: unknown,
  dp: unknown,
  ms: unknown,
  seq: number,
  receivedAt: number,
): ParsedMessage {
  if (typeof s !== 'string' || s.length === 0) return INVALID.missing_symbol;

  const price = toNumber(p);
  if (!Number.isFinite(price)) return INVALID.bad_price;
  if (price <= 0) return INVALID.nonpositive_price;
  if (price > MAX_PRICE || price < MIN_PRICE) return INVALID.absurd_price;

  const size = toNumber(v);
  if (!Number.isFinite(size) || size < 0) return INVALID.bad_size;
  if (size > MAX_SIZE) return INVALID.absurd_size;

  const ts = toNumber(t);
  if (!Number.isFinite(ts)) return INVALID.bad_timestamp;
  if (ts < MIN_TS_MS || ts > receivedAt + MAX_FUTURE_MS) return INVALID.absurd_timestamp;

  return {
    kind: 'trade',
    trade: {
      symbol: s,
      price,
      size,
      ts,
      conditions: conditions(c),
      // Until the collector classifies the ids (ConditionRules.ofIds): a trade that updates everything.
      flags: UPDATES_ALL,
      darkPool: dp === true || dp === 'true' || dp === 1,
      marketStatus: typeof ms === 'string' ? ms : null,
      seq,
      receivedAt,
    },
  };
}
