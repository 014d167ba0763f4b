// The candle shapes the API and the stream send, and how the chart places and draws them. No DOM, no
// library: the rules in one place (a candle without a price is never drawn at zero).
// @ts-check

/**
 * What the chart can show: the collector's candles and the bars built from the 1-second ones.
 * @typedef {'1s' | '100t' | '1m' | '5m' | '1h' | '1d'} Kind
 */
/** The bar kinds: read from the database (src/store/timeframes.ts), not streamed. */
export const BAR_KINDS = /** @type {const} */ (['1m', '5m', '1h', '1d']);
/** @param {string} k @returns {k is '1m' | '5m' | '1h' | '1d'} */
export const isBarKind = (k) => /** @type {readonly string[]} */ (BAR_KINDS).includes(k);

/**
 * A candle as the API and the stream send it (src/aggregate/types.ts), or a bar (src/store/timeframes.ts:
 * `bucket` is its start); prices may be null.
 * @typedef {{
 *   kind: Kind, symbol: string, open: number | null, high: number | null, low: number | null,
 *   close: number | null, volume: number, tradeCount: number, vwap: number | null,
 *   bucket?: number, firstTradeAt?: number, lastTradeAt?: number,
 *   sessionDate?: string, seq?: number, startAt?: number, endAt?: number
 * }} Candle
 */
/**
 * @typedef {{ id: number, symbol: string, startedAt: number, endedAt: number, reason: string,
 *   filledAt: number | null, filledTrades: number | null, fillError: string | null }} Gap
 */

/** @param {Candle} c */
export function candleX(c) {
  if (c.kind !== '100t') return Math.floor(/** @type {number} */ (c.bucket) / 1000);
  const [y, m, d] = String(c.sessionDate).split('-').map(Number);
  return (
    (Date.UTC(/** @type {number} */ (y), /** @type {number} */ (m) - 1, d) / 86_400_000) * 1e6 + (c.seq ?? 0)
  );
}

/** The candle's instant: 1s and the bars their bucket, 100t its last trade. @param {Candle} c */
export const candleMs = (c) =>
  c.kind === '100t' ? /** @type {number} */ (c.endAt) : /** @type {number} */ (c.bucket);

/**
 * Open/high/low/close for drawing, filled from the prices the candle has; null when it has none.
 * @param {Candle} c
 */
export function drawable(c) {
  const have = [c.open, c.high, c.low, c.close].filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (have.length === 0) return null;
  const nums = /** @type {number[]} */ (have);
  const open = c.open ?? c.close ?? /** @type {number} */ (nums[0]);
  const close = c.close ?? c.open ?? /** @type {number} */ (nums[0]);
  return {
    open,
    close,
    high: c.high ?? Math.max(...nums),
    low: c.low ?? Math.min(...nums),
  };
}
