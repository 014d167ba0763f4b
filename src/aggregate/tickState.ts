// TickTable: every symbol's 100-tick candle state in one Float64Array, and the offsets of its fields.
// Every symbol's 100-tick candle state for TickAggregator, in one Float64Array indexed by symbol id
// (TICK_STRIDE doubles per id, the fields a trade touches first). No object per symbol: at thousands of
// symbols a trade then costs the cache lines of its own row and nothing else (as object fields each double
// was a boxed number somewhere on the heap, and reaching a per-symbol object was a miss of its own).

/** [DAY_START, DAY_END): the session date's ET day; NaN until the first trade. */
export const DAY_START = 0;
export const DAY_END = 1;
/** Trades in the unfinished candle. */
export const COUNT = 2;
/** 1 while it holds trades not yet in an emitted version. */
export const DIRTY = 3;
export const HIGH = 4;
export const LOW = 5;
export const CLOSE = 6;
export const VOLUME = 7;
/** Σ price·size, in arrival order. */
export const PV = 8;
export const END_AT = 9;
export const OPEN = 10;
export const START_AT = 11;
export const SEQ = 12;
/** `now` of the first flush that saw it dirty; -Infinity when clean. */
export const DIRTY_SEEN_AT = 13;
/** The exchange ts of the first trade since the last emitted version (valid while DIRTY): the ledger's bound. */
export const HELD_FROM = 14;
/** Doubles per id (a power of two, so a row never straddles more cache lines than it must). */
export const TICK_STRIDE = 16;

/** Rows by id; grows by doubling. Rows of ids not yet seen hold zeros until init(). */
export class TickTable {
  /** Row of id i starts at i * TICK_STRIDE. Replaced when it grows: read it after ensure(). */
  f = new Float64Array(64 * TICK_STRIDE);
  /** Session date (YYYY-MM-DD) by id; '' before the first trade, undefined for ids not seen. */
  readonly sessionDate: (string | undefined)[] = [];

  /** Whether id has a row in use. */
  has(id: number): boolean {
    return this.sessionDate[id] !== undefined;
  }

  /** Starts id's row: no session yet, seq 0, empty. */
  init(id: number): void {
    const cap = this.f.length / TICK_STRIDE;
    if (id >= cap) {
      let n = cap * 2;
      while (n <= id) n *= 2;
      const next = new Float64Array(n * TICK_STRIDE);
      next.set(this.f);
      this.f = next;
    }
    const dates = this.sessionDate;
    while (dates.length <= id) dates.push(undefined);
    dates[id] = '';
    const f = this.f;
    const o = id * TICK_STRIDE;
    f.fill(0, o, o + TICK_STRIDE);
    f[o + DAY_START] = Number.NaN;
    f[o + DAY_END] = Number.NaN;
    f[o + DIRTY_SEEN_AT] = Number.NEGATIVE_INFINITY;
  }
}
