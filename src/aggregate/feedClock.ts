// FeedClock: event time per symbol, by the feed's own clock, with quarantine for trades far from it.
// Event time per symbol (docs/ARCHITECTURE.md "Event time"): candles close and amend by the feed's own clock,
// not the collector's, so a delayed feed (trades stamped minutes in the past) or one ahead of us gives the same
// candles. A symbol's feed clock is the collector's clock plus an offset: the largest (ts − receipt) seen for it,
// so it runs at the collector's rate between trades (a quiet symbol still closes its candles) and jumps forward
// when a trade shows the feed is ahead. It never goes backwards.
// A trade far from its symbol's clock (ahead of it and of the collector's clock, or an hour behind it; for a
// symbol's first trade, an hour from the collector's clock) is quarantined: counted, kept out of every candle, and it moves neither the clock nor a 100-tick series' date.
// A sustained shift (a feed that really changed its clock) re-anchors after `reanchorAfter` consistent trades.

export interface FeedClockOptions {
  /**
   * A trade more than this ahead of its symbol's clock, and ahead of the collector's clock by as much, is
   * quarantined. (Ahead of the symbol's clock alone is not enough: a symbol's first trade may be a late
   * report, and the on-time trades after it must move the clock, not be refused.)
   */
  maxAheadMs?: number;
  /** A trade more than this behind it is quarantined (beyond any lateness window: it could amend nothing). */
  maxBehindMs?: number;
  /** A symbol's first trade more than this from the collector's clock (either way) is quarantined. */
  maxSkewMs?: number;
  /** Consecutive quarantined trades, consistent with each other, after which the clock moves to them. */
  reanchorAfter?: number;
}

export interface FeedClockStats {
  /** Trades kept out of the candles for a timestamp far from the feed's clock. */
  quarantined: number;
  /** Symbols whose clock moved to a sustained new offset. */
  reanchored: number;
}

const NONE = Number.NEGATIVE_INFINITY;

export class FeedClock {
  readonly stats: FeedClockStats = { quarantined: 0, reanchored: 0 };
  /** The collector's clock as last seen (a trade's receipt or a flush); never goes backwards. */
  now = NONE;
  /** ts − collector time of the last admitted trade (the feed's lag, negated): for /health and the lag warning. */
  lastOffset: number | null = null;
  /** offset[id]: feed time − collector time for symbol id; −Infinity before its first admitted trade. */
  private offset = new Float64Array(64).fill(NONE);
  /** The offset of the current run of quarantined trades, and its length. */
  private runOffset = new Float64Array(64);
  private runLength = new Uint32Array(64);
  private readonly maxAhead: number;
  private readonly maxBehind: number;
  private readonly maxSkew: number;
  private readonly reanchorAfter: number;

  constructor(o: FeedClockOptions = {}) {
    this.maxAhead = o.maxAheadMs ?? 300_000;
    this.maxBehind = o.maxBehindMs ?? 3_600_000;
    this.maxSkew = o.maxSkewMs ?? 3_600_000;
    this.reanchorAfter = o.reanchorAfter ?? 50;
  }

  /** Moves the collector's clock forward (flush). */
  advance(now: number): void {
    if (now > this.now) this.now = now;
  }

  /** A trade of symbol `id` stamped `ts`, received at `receivedAt`: true = it enters the candles. */
  admit(id: number, ts: number, receivedAt: number): boolean {
    let now = this.now;
    if (receivedAt > now) this.now = now = receivedAt;
    const offs = this.offset;
    if (id < offs.length) {
      // The hot path: a symbol with a clock, the trade within bounds.
      const off = offs[id]!;
      const d = ts - now;
      if (off !== NONE && (d - off <= this.maxAhead || d <= this.maxAhead) && off - d <= this.maxBehind) {
        if (d > off) offs[id] = d;
        if (this.runLength[id] !== 0) this.runLength[id] = 0;
        this.lastOffset = d;
        return true;
      }
    }
    return this.admitSlow(id, ts - now);
  }

  /** A symbol's first trade, or one out of bounds (d = ts − collector time). */
  private admitSlow(id: number, d: number): boolean {
    if (id >= this.offset.length) this.grow(id);
    const off = this.offset[id]!;
    if (off === NONE) {
      if (d > this.maxSkew || -d > this.maxSkew) return this.quarantine(id, d);
      this.offset[id] = d;
      this.runLength[id] = 0;
      this.lastOffset = d;
      return true;
    }
    return this.quarantine(id, d);
  }

  /** Feed time − collector time for `id` (−Infinity before its first trade); read it after admit(). */
  offsetOf(id: number): number {
    return id < this.offset.length ? this.offset[id]! : NONE;
  }

  /** The feed's clock for `id` at the collector's clock `now`. */
  eventNow(id: number, now: number): number {
    return now + this.offsetOf(id);
  }

  private quarantine(id: number, d: number): boolean {
    const run = this.runLength[id]!;
    if (run > 0 && Math.abs(d - this.runOffset[id]!) <= this.maxAhead) {
      if (run + 1 >= this.reanchorAfter) {
        this.offset[id] = d;
        this.runLength[id] = 0;
        this.stats.reanchored++;
        this.lastOffset = d;
        return true;
      }
      this.runLength[id] = run + 1;
    } else {
      this.runOffset[id] = d;
      this.runLength[id] = 1;
    }
    this.stats.quarantined++;
    return false;
  }

  private grow(id: number): void {
    let n = this.offset.length * 2;
    while (n <= id) n *= 2;
    const offset = new Float64Array(n).fill(NONE);
    offset.set(this.offset);
    this.offset = offset;
    const runOffset = new Float64Array(n);
    runOffset.set(this.runOffset);
    this.runOffset = runOffset;
    const runLength = new Uint32Array(n);
    runLength.set(this.runLength);
    this.runLength = runLength;
  }
}
