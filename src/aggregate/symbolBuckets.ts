// One symbol's time buckets for SecondAggregator, as plain doubles (no object per bucket).
// - `dirty` ones (open, or written and amended since) in a small ring of Float64Array slots sorted by start,
//   oldest first: the only per-symbol memory a trade touches, a few slots that stay in cache;
// - the log position of its latest written candle: its written candles live in the shared WrittenCandles log,
//   each linked to the symbol's previous one.
// The ring starts in a region of an arena shared by many symbols (one array object for all of them, so reaching
// a slot costs one cache miss, not three) and moves to its own array only if it outgrows it.
// A SecondCandle object is built only when a bucket is emitted. The slot layout is shared with the log.
import { UPDATES_ALL, UPDATES_HIGH_LOW, UPDATES_OPEN_CLOSE, UPDATES_VOLUME } from './conditions.js';
import type { SecondCandle, Trade } from './types.js';

// Field offsets inside a slot. A field no trade has set yet holds the value every comparison replaces:
// OPEN_TS +Infinity, CLOSE_TS −Infinity, HIGH −Infinity, LOW +Infinity (and the candle says null for it).
export const START = 0;
const OPEN = 1;
/** ts of the trade that set `open` (the earliest ts among open/close-updating trades; ties keep the first). */
const OPEN_TS = 2;
const CLOSE = 3;
/** ts of the trade that set `close` (the latest ts; ties take the last arrival). */
const CLOSE_TS = 4;
const HIGH = 5;
const LOW = 6;
/** Σ size over volume-updating trades. */
const VOLUME = 7;
/** Σ price·size over the same trades, in arrival order. */
const PV = 8;
/** Counted trades: those updating at least one field. */
const COUNT = 9;
/** 1 once written (a later emission is an amendment). */
export const WRITTEN = 10;
/** In the log: 1 while the entry is the candle's current home (0 once moved back here to be amended). */
export const LIVE = 11;
/** In the log: position of the same symbol's previously written candle (−1: none). */
export const PREV = 12;
/** min/max ts over the counted trades. */
const FIRST_TS = 13;
const LAST_TS = 14;
/** In the log: the symbol's feed-clock offset when the candle was written (offsets only grow: never early). */
export const OFFSET = 15;
export const FIELDS = 16;
/** Dirty buckets a symbol's arena region holds (a power of two). */
export const REGION_SLOTS = 4;

export class SymbolBuckets {
  readonly symbol: string;
  /** `end + grace` of the oldest dirty bucket (the first due), in feed time; Infinity when none. */
  dueAt = Number.POSITIVE_INFINITY;
  /** The symbol's feed-clock offset as last seen (feedClock.ts): feed time = collector time + offset. */
  offset = Number.NEGATIVE_INFINITY;
  /** Feed time of the newest counted trade, and the collector time it arrived (a late one changes neither). */
  newestTs = Number.NEGATIVE_INFINITY;
  lastSeenAt = Number.NEGATIVE_INFINITY;
  /** While its oldest due candle waits for the backlog: when it is looked at again (collector time). */
  waitUntil = Number.NEGATIVE_INFINITY;
  /** Collector time of this symbol's live entry in the aggregator's WakeQueue; Infinity when it has none. */
  wakeAt = Number.POSITIVE_INFINITY;
  /** Buckets not yet written. */
  openCount = 0;
  /** Dirty buckets held. */
  size = 0;
  /** Latest start ever written: a trade for a later bucket need not look in the log. */
  maxWrittenStart = Number.NEGATIVE_INFINITY;
  /** Log position of the latest written candle (−1: none); each links to the one before (PREV). */
  lastWritten = -1;
  /** Dirty bucket i (0 = oldest) sits at base + ((head + i) & mask) * FIELDS; capacities are powers of two. */
  private data: Float64Array;
  private base: number;
  private mask = REGION_SLOTS - 1;
  private head = 0;

  /** `arena[base … base + REGION_SLOTS * FIELDS)` is this symbol's to use until it outgrows it. */
  constructor(symbol: string, arena: Float64Array, base: number) {
    this.symbol = symbol;
    this.data = arena;
    this.base = base;
  }

  /** Where dirty bucket i (0 = oldest … size−1 = newest) is: pass it to the accessors below. */
  slot(i: number): number {
    return this.base + ((this.head + i) & this.mask) * FIELDS;
  }

  start(o: number): number {
    return this.data[o + START]!;
  }

  /** Index of the newest dirty bucket whose start is <= `start`, or −1 (walks back from the newest). */
  indexAtOrBefore(start: number): number {
    let i = this.size - 1;
    while (i >= 0 && this.data[this.slot(i) + START]! > start) i--;
    return i;
  }

  /** A new unwritten bucket holding only `t` (a counted trade), at index i (newer ones move up one); its slot. */
  insert(i: number, start: number, t: Trade): number {
    const o = this.open(i);
    const d = this.data;
    d[o + START] = start;
    d[o + OPEN] = Number.NaN;
    d[o + OPEN_TS] = Number.POSITIVE_INFINITY;
    d[o + CLOSE] = Number.NaN;
    d[o + CLOSE_TS] = Number.NEGATIVE_INFINITY;
    d[o + HIGH] = Number.NEGATIVE_INFINITY;
    d[o + LOW] = Number.POSITIVE_INFINITY;
    d[o + VOLUME] = 0;
    d[o + PV] = 0;
    d[o + COUNT] = 0;
    d[o + WRITTEN] = 0;
    d[o + FIRST_TS] = Number.POSITIVE_INFINITY;
    d[o + LAST_TS] = Number.NEGATIVE_INFINITY;
    this.merge(o, t);
    return o;
  }

  /** A written candle copied back from the log (slot `from` of `src`) at index i, to be amended; its slot. */
  insertCopy(i: number, src: Float64Array, from: number): number {
    const o = this.open(i);
    const d = this.data;
    for (let f = 0; f < FIELDS; f++) d[o + f] = src[from + f]!;
    return o;
  }

  /** Adds `t` (a counted trade) to the bucket at slot o, each field as the trade's flags allow. */
  merge(o: number, t: Trade): void {
    const d = this.data;
    const ts = t.ts;
    const p = t.price;
    const flags = t.flags;
    if ((flags & UPDATES_ALL) === UPDATES_ALL) {
      // A regular trade (most of them): every field, no further test of the flags.
      if (ts < d[o + OPEN_TS]!) {
        d[o + OPEN_TS] = ts;
        d[o + OPEN] = p;
      }
      if (ts >= d[o + CLOSE_TS]!) {
        d[o + CLOSE_TS] = ts;
        d[o + CLOSE] = p;
      }
      if (p > d[o + HIGH]!) d[o + HIGH] = p;
      if (p < d[o + LOW]!) d[o + LOW] = p;
      d[o + VOLUME] = d[o + VOLUME]! + t.size;
      d[o + PV] = d[o + PV]! + p * t.size;
    } else {
      if ((flags & UPDATES_OPEN_CLOSE) !== 0) {
        // Ties on ts: the earlier arrival keeps `open`, the later one takes `close`.
        if (ts < d[o + OPEN_TS]!) {
          d[o + OPEN_TS] = ts;
          d[o + OPEN] = p;
        }
        if (ts >= d[o + CLOSE_TS]!) {
          d[o + CLOSE_TS] = ts;
          d[o + CLOSE] = p;
        }
      }
      if ((flags & UPDATES_HIGH_LOW) !== 0) {
        if (p > d[o + HIGH]!) d[o + HIGH] = p;
        if (p < d[o + LOW]!) d[o + LOW] = p;
      }
      if ((flags & UPDATES_VOLUME) !== 0) {
        d[o + VOLUME] = d[o + VOLUME]! + t.size;
        d[o + PV] = d[o + PV]! + p * t.size;
      }
    }
    if (ts < d[o + FIRST_TS]!) d[o + FIRST_TS] = ts;
    if (ts > d[o + LAST_TS]!) d[o + LAST_TS] = ts;
    d[o + COUNT] = d[o + COUNT]! + 1;
  }

  /** The oldest dirty bucket as a candle (its slot stays readable until the next insert). */
  oldestCandle(): SecondCandle {
    const d = this.data;
    const o = this.slot(0);
    const volume = d[o + VOLUME]!;
    const priced = d[o + OPEN_TS]! !== Number.POSITIVE_INFINITY;
    const ranged = d[o + HIGH]! !== Number.NEGATIVE_INFINITY;
    return {
      kind: '1s',
      symbol: this.symbol,
      bucket: d[o + START]!,
      open: priced ? d[o + OPEN]! : null,
      high: ranged ? d[o + HIGH]! : null,
      low: ranged ? d[o + LOW]! : null,
      close: priced ? d[o + CLOSE]! : null,
      volume,
      tradeCount: d[o + COUNT]!,
      vwap: volume > 0 ? d[o + PV]! / volume : null,
      firstTradeAt: d[o + FIRST_TS]!,
      lastTradeAt: d[o + LAST_TS]!,
    };
  }

  /** True if the oldest dirty bucket was written before (its emission is an amendment). */
  oldestWritten(): boolean {
    return this.data[this.slot(0) + WRITTEN] !== 0;
  }

  /** Removes the oldest dirty bucket, marked written; returns its slot, readable in `slots` until the next insert. */
  shiftOldest(): number {
    const o = this.slot(0);
    this.data[o + WRITTEN] = 1;
    this.head = (this.head + 1) & this.mask;
    this.size--;
    return o;
  }

  /** The slot array (read by the log when it copies a bucket in). */
  get slots(): Float64Array {
    return this.data;
  }

  /** Makes room at index i (newer buckets move up one) and returns the slot. */
  private open(i: number): number {
    if (this.size > this.mask) this.grow();
    const d = this.data;
    for (let j = this.size; j > i; j--) {
      const to = this.slot(j);
      const from = this.slot(j - 1);
      for (let f = 0; f < FIELDS; f++) d[to + f] = d[from + f]!;
    }
    this.size++;
    return this.slot(i);
  }

  private grow(): void {
    const slots = this.mask + 1;
    const next = new Float64Array(slots * 2 * FIELDS);
    for (let i = 0; i < this.size; i++) {
      const from = this.slot(i);
      for (let f = 0; f < FIELDS; f++) next[i * FIELDS + f] = this.data[from + f]!;
    }
    this.data = next;
    this.base = 0;
    this.head = 0;
    this.mask = slots * 2 - 1;
  }
}
