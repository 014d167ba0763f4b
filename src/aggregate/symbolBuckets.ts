// One symbol's time buckets for SecondAggregator: the open ones (not yet written) and the written ones still
// inside the lateness window. They live as fixed-size slots of one Float64Array used as a ring, sorted by start,
// oldest first, so a retained candle is 96 bytes of plain doubles the GC never scans or moves (a candle object
// per bucket, kept ~60 s, made the aggregator cache and GC bound at thousands of symbols). A SecondCandle
// object is built only when one is emitted.
import type { SecondCandle, Trade } from './types.js';

// Field offsets inside a slot.
const START = 0;
const OPEN = 1;
/** ts of the trade that set `open` (the earliest ts; ties keep the first arrival). */
const OPEN_TS = 2;
const CLOSE = 3;
/** ts of the trade that set `close` (the latest ts; ties take the last arrival). */
const CLOSE_TS = 4;
const HIGH = 5;
const LOW = 6;
const VOLUME = 7;
/** Σ price·size, in arrival order. */
const PV = 8;
const COUNT = 9;
/** 1 while it holds trades not yet in an emitted version. */
const DIRTY = 10;
/** 1 once written (a later emission is an amendment). */
const WRITTEN = 11;
const FIELDS = 12;

const INITIAL_SLOTS = 8;

export class SymbolBuckets {
  readonly symbol: string;
  /** Earliest `end + grace` among dirty buckets; Infinity when none (flush skips the symbol in O(1)). */
  dueAt = Number.POSITIVE_INFINITY;
  /** Buckets not yet written. */
  openCount = 0;
  /** Dirty buckets (open or amended). */
  dirtyCount = 0;
  /** Buckets held. */
  size = 0;
  /** Slot i (0 = oldest) sits at ((head + i) & mask) * FIELDS; the capacity is a power of two. */
  private data: Float64Array;
  private mask: number;
  private head = 0;

  constructor(symbol: string) {
    this.symbol = symbol;
    this.data = new Float64Array(INITIAL_SLOTS * FIELDS);
    this.mask = INITIAL_SLOTS - 1;
  }

  /** Capacity in buckets (grows by doubling when full; exposed for tests). */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Where bucket i (0 = oldest … size−1 = newest) is: pass it to the accessors below. */
  slot(i: number): number {
    return ((this.head + i) & this.mask) * FIELDS;
  }

  start(o: number): number {
    return this.data[o + START]!;
  }

  dirty(o: number): boolean {
    return this.data[o + DIRTY] !== 0;
  }

  written(o: number): boolean {
    return this.data[o + WRITTEN] !== 0;
  }

  /** Index of the newest bucket whose start is <= `start`, or −1 (walks back from the newest). */
  indexAtOrBefore(start: number): number {
    let i = this.size - 1;
    while (i >= 0 && this.data[this.slot(i) + START]! > start) i--;
    return i;
  }

  /** A new dirty, unwritten bucket holding only `t`, at index i (newer ones move up one); returns its slot. */
  insert(i: number, start: number, t: Trade): number {
    if (this.size > this.mask) this.grow();
    const d = this.data;
    for (let j = this.size; j > i; j--) {
      const to = this.slot(j);
      const from = this.slot(j - 1);
      for (let f = 0; f < FIELDS; f++) d[to + f] = d[from + f]!;
    }
    this.size++;
    const o = this.slot(i);
    const p = t.price;
    d[o + START] = start;
    d[o + OPEN] = p;
    d[o + OPEN_TS] = t.ts;
    d[o + CLOSE] = p;
    d[o + CLOSE_TS] = t.ts;
    d[o + HIGH] = p;
    d[o + LOW] = p;
    d[o + VOLUME] = t.size;
    d[o + PV] = p * t.size;
    d[o + COUNT] = 1;
    d[o + DIRTY] = 1;
    d[o + WRITTEN] = 0;
    return o;
  }

  /** Adds `t` to the bucket at slot o and marks it dirty; true if it was clean (written: an amendment). */
  merge(o: number, t: Trade): boolean {
    const d = this.data;
    const ts = t.ts;
    const p = t.price;
    // Ties on ts: the earlier arrival keeps `open`, the later one takes `close`.
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
    d[o + COUNT] = d[o + COUNT]! + 1;
    if (d[o + DIRTY] !== 0) return false;
    d[o + DIRTY] = 1;
    return true;
  }

  /** The bucket at slot o as a candle; marks it clean and written. */
  emit(o: number): SecondCandle {
    const d = this.data;
    d[o + DIRTY] = 0;
    d[o + WRITTEN] = 1;
    const volume = d[o + VOLUME]!;
    return {
      kind: '1s',
      symbol: this.symbol,
      bucket: d[o + START]!,
      open: d[o + OPEN]!,
      high: d[o + HIGH]!,
      low: d[o + LOW]!,
      close: d[o + CLOSE]!,
      volume,
      tradeCount: d[o + COUNT]!,
      vwap: volume > 0 ? d[o + PV]! / volume : null,
      firstTradeAt: d[o + OPEN_TS]!,
      lastTradeAt: d[o + CLOSE_TS]!,
    };
  }

  /** Forgets the n oldest buckets. */
  dropOldest(n: number): void {
    this.head = (this.head + n) & this.mask;
    this.size -= n;
  }

  private grow(): void {
    const slots = this.mask + 1;
    const next = new Float64Array(slots * 2 * FIELDS);
    // Unwrap: oldest first from slot 0.
    const h = this.head * FIELDS;
    next.set(this.data.subarray(h));
    next.set(this.data.subarray(0, h), this.data.length - h);
    this.data = next;
    this.mask = slots * 2 - 1;
    this.head = 0;
  }
}
