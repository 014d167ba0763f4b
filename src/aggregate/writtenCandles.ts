// WrittenCandles: one log of the 1-second candles still inside the lateness window, for late trades.
// Every symbol's written 1-second candles still inside the lateness window, in one log in the order they were
// written (Float64Array slots laid out as in symbolBuckets.ts). Writing appends and the window's end frees
// from the oldest, both sequential in memory, so a candle kept ~60 s for a possible late trade costs no
// per-symbol cache line and no GC work. A symbol reaches its entries through a chain of absolute positions:
// its latest one, and in each entry the one before.
import { FIELDS, LIVE, OFFSET, PREV, START } from './symbolBuckets.js';

/** The most sized up front (64 MiB of slots): a larger set of symbols grows the log on demand as before. */
const PRESIZE_MAX = 1 << 19;

export class WrittenCandles {
  /** Absolute positions [head, tail) are held; position p sits at (p & mask) * FIELDS (exact below 2^53). */
  head = 0;
  private tail = 0;
  private data: Float64Array;
  private mask: number;

  /**
   * Room for `entries` candles before the first growth (rounded up to a power of two): sized up front for
   * the symbols expected, the log does not double (one block copy of all it holds) during the first window.
   */
  constructor(entries = 1024) {
    let n = 1024;
    while (n < entries && n < PRESIZE_MAX) n *= 2;
    this.data = new Float64Array(n * FIELDS);
    this.mask = n - 1;
  }

  /** The slot array (read when a candle is copied back to be amended). */
  get slots(): Float64Array {
    return this.data;
  }

  /** Slot of position p. */
  slot(p: number): number {
    return (p & this.mask) * FIELDS;
  }

  /** True while position p holds its candle (not let go, not moved back to be amended). */
  live(p: number): boolean {
    return p >= this.head && p < this.tail && this.data[this.slot(p) + LIVE] !== 0;
  }

  /** The candle at p moved back to its symbol (it will be appended again when re-written). */
  kill(p: number): void {
    this.data[this.slot(p) + LIVE] = 0;
  }

  /**
   * Appends a copy of slot `from` of `src`, linked to `prev` (the symbol's previous entry), written when the
   * symbol's feed-clock offset was `offset`; its position.
   */
  append(src: Float64Array, from: number, prev: number, offset: number): number {
    if (this.tail - this.head > this.mask) this.grow();
    const p = this.tail++;
    const d = this.data;
    const o = this.slot(p);
    for (let f = 0; f < FIELDS; f++) d[o + f] = src[from + f]!;
    d[o + LIVE] = 1;
    d[o + PREV] = prev;
    d[o + OFFSET] = offset;
    return p;
  }

  /** Position of the live entry starting at `start` on the chain that ends at `last`, or −1. */
  find(last: number, start: number): number {
    const d = this.data;
    // Newest first; positions only go down the chain, and below `head` the log has let go of them.
    for (let p = last; p >= this.head; ) {
      const o = this.slot(p);
      if (d[o + START] === start && d[o + LIVE] !== 0) return p;
      p = d[o + PREV]!;
    }
    return -1;
  }

  /**
   * Lets go of entries from the oldest while they are out of the window (`now + offset - end > lateness`, in
   * the feed time of the entry's symbol as of its writing) or dead;
   * returns how many live candles it let go. An entry written late (an amendment) can sit behind a newer one
   * and is let go with it, at most about one window later: never early, so no trade misses its candle.
   */
  prune(now: number, interval: number, lateness: number): number {
    const d = this.data;
    let dropped = 0;
    while (this.head < this.tail) {
      const o = this.slot(this.head);
      if (d[o + LIVE] !== 0) {
        if (!(now + d[o + OFFSET]! - (d[o + START]! + interval) > lateness)) break;
        dropped++;
      }
      this.head++;
    }
    return dropped;
  }

  private grow(): void {
    const old = this.data;
    const oldMask = this.mask;
    this.mask = oldMask * 2 + 1;
    const d = new Float64Array((this.mask + 1) * FIELDS);
    // Positions keep their numbers: each entry moves to where (p & mask) now points, in runs that wrap
    // in neither array (at most three), each one block copy.
    const mask = this.mask;
    for (let p = this.head; p < this.tail; ) {
      const from = p & oldMask;
      const to = p & mask;
      const run = Math.min(this.tail - p, oldMask + 1 - from, mask + 1 - to);
      d.set(old.subarray(from * FIELDS, (from + run) * FIELDS), to * FIELDS);
      p += run;
    }
    this.data = d;
  }
}
