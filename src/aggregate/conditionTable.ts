// The consolidated tape's update rules by trade condition, as data: the one place to correct a row.
// Source: Polygon/Massive /v3/reference/conditions (stocks, sale conditions, consolidated update rules, fetched
// 2026-08-31), numbering of its "current API" (2026: 32 = Sold Out of Sequence, 33 = the same with stopped stock).
// EODHD's WebSocket `c` ids follow this numbering in every sample found; no document confirms it.
// See docs/ARCHITECTURE.md "Condition rules" and ../shared/research/ticks-and-conditions.md section C.

/** [id, updates high/low, updates open/close, updates volume, name]. */
export type ConditionRow = readonly [number, boolean, boolean, boolean, string];

export const CONDITION_ROWS: readonly ConditionRow[] = [
  // id 0 has no row in the 2026 table (a regular trade sends no condition); the old glossary's Regular Sale.
  [0, true, true, true, 'Regular Sale'],
  [1, true, true, true, 'Acquisition'],
  [2, false, false, true, 'Average Price Trade'],
  [3, true, true, true, 'Automatic Execution'],
  [4, true, true, true, 'Bunched Trade'],
  [5, true, false, true, 'Bunched Sold Trade'],
  [6, true, true, true, 'CAP Election'],
  [7, false, false, true, 'Cash Sale'],
  [8, true, true, true, 'Closing Prints'],
  [9, true, true, true, 'Cross Trade'],
  [10, true, false, true, 'Derivatively Priced'],
  [11, true, true, true, 'Distribution'],
  [12, false, false, true, 'Form T/Extended Hours'],
  [13, false, false, true, 'Extended Hours (Sold Out Of Sequence)'],
  [14, true, true, true, 'Intermarket Sweep'],
  [15, false, false, false, 'Market Center Official Close'],
  [16, false, false, false, 'Market Center Official Open'],
  [17, true, true, true, 'Market Center Opening Trade'],
  [18, true, true, true, 'Market Center Reopening Trade'],
  [19, true, true, true, 'Market Center Closing Trade'],
  [20, false, false, true, 'Next Day'],
  [21, false, false, true, 'Price Variation Trade'],
  [22, true, false, true, 'Prior Reference Price'],
  [23, true, true, true, 'Rule 155 Trade (AMEX)'],
  [24, true, true, true, 'Rule 127 (NYSE Only)'],
  [25, true, true, true, 'Opening Prints'],
  [27, true, true, true, 'Stopped Stock (Regular Trade)'],
  [28, true, true, true, 'Re-Opening Prints'],
  [29, false, false, true, 'Seller'],
  [30, true, true, true, 'Sold Last'],
  [31, true, true, true, 'Sold Last and Stopped Stock'],
  [32, true, false, true, 'Sold (Out Of Sequence)'],
  [33, true, false, true, 'Sold (Out of Sequence) and Stopped Stock'],
  [34, true, true, true, 'Split Trade'],
  [35, true, true, true, 'Stock Option'],
  [36, true, true, true, 'Yellow Flag Regular Trade'],
  [37, false, false, true, 'Odd Lot Trade'],
  [38, true, true, false, 'Corrected Consolidated Close (per listing market)'],
  [41, true, true, true, 'Trade Thru Exempt'],
  [52, false, false, true, 'Contingent Trade'],
  [53, false, false, true, 'Qualified Contingent Trade'],
  [55, true, true, true, 'Opening Reopening Trade Detail'],
];

/** Ids that mark a print made outside regular hours: the session tail does not take them into candles. */
export const EXTENDED_HOURS_IDS: readonly number[] = [12, 13];

/**
 * The tick REST API's `sl` letters (4 characters, blank-padded) → the id whose rule they carry. EODHD's
 * payload has no tape field, so a letter that means different things on CTA and UTP gets one meaning here:
 * - B: CTA Average Price Trade (2), not UTP Bunched Trade (4): a price from an average must not set a candle's
 *   prices (a bunched print wrongly taken as volume-only costs less than an average price taken as a print).
 * - G: UTP Bunched Sold Trade (5), as EODHD's own glossary says (CTA uses G for 55, all-true: only open/close differ).
 * - V: Contingent Trade (52, CTA and UTP), not UTP Stock Option (35): EODHD's samples pair it with 7 (QCT).
 * - I: Odd Lot (37), not the legacy CTA CAP Election.
 * - K, O, 5, 6, X, 1: the two tapes' meanings share one rule (all true), so the choice changes nothing.
 * '@' (regular, UTP) and ' ' (padding, or CTA regular) carry no condition.
 */
export const LETTER_IDS: Readonly<Record<string, number>> = {
  A: 1,
  B: 2,
  C: 7,
  D: 11,
  E: 3,
  F: 14,
  G: 5,
  H: 21,
  I: 37,
  K: 23,
  L: 30,
  M: 15,
  N: 20,
  O: 25,
  P: 22,
  Q: 16,
  R: 29,
  S: 34,
  T: 12,
  U: 13,
  V: 52,
  W: 2,
  X: 9,
  Y: 36,
  Z: 32,
  '1': 27,
  '2': 31,
  '3': 33,
  '4': 10,
  '5': 28,
  '6': 8,
  '7': 53,
  '9': 38,
};
