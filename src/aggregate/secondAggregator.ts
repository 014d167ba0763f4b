// Time candles (1 s by default), exactly as DESIGN.md "Candle semantics" defines them.
// Per symbol we keep its buckets sorted by start (SymbolBuckets, a ring of Float64Array slots): the open ones
// (not yet written) and the written ones still inside the lateness window (so a late trade can amend the full
// candle). The Map is keyed by symbol only; the hot path touches the newest bucket and allocates nothing.
import type { CandleAggregator } from './aggregator.js';
import { SymbolBuckets } from './symbolBuckets.js';
import type { CandleOut, Trade } from './types.js';

export interface SecondAggregatorOptions {
  /** Candle length (CANDLE_INTERVAL_MS). */
  intervalMs?: number;
  /** Write a candle once `now >= bucketEnd + graceMs` (CANDLE_GRACE_MS). */
  graceMs?: number;
  /** Late trades with `now - bucketEnd <= latenessMs` amend; older ones are dropped (CANDLE_LATENESS_MS). */
  latenessMs?: number;
}

export interface SecondAggregatorStats {
  /** Every trade given to add(). */
  trades: number;
  /** Candles handed to `out`, amendments included. */
  candlesEmitted: number;
  /** Re-emissions of an already written candle after a late trade merged into it. */
  amendments: number;
  /** Trades older than the lateness window: not in any candle. */
  lateDropped: number;
  /** Trades that arrived for a candle already written (and amended it). */
  lateMerged: number;
  /** Candles not yet written. */
  openCandles: number;
  /** Symbols with at least one candle not yet written (updated by flushes that have work to do). */
  openSymbols: number;
  /** Written candles kept for possible amendment. */
  retainedCandles: number;
  /** Symbols seen. */
  symbols: number;
}

export class SecondAggregator implements CandleAggregator<SecondAggregatorStats> {
  readonly stats: SecondAggregatorStats = {
    trades: 0,
    candlesEmitted: 0,
    amendments: 0,
    lateDropped: 0,
    lateMerged: 0,
    openCandles: 0,
    openSymbols: 0,
    retainedCandles: 0,
    symbols: 0,
  };
  private readonly interval: number;
  private readonly grace: number;
  private readonly lateness: number;
  private readonly out: CandleOut;
  private readonly bySymbol = new Map<string, SymbolBuckets>();
  /** Array twin of the Map: flush walks it without an iterator. */
  private readonly states: SymbolBuckets[] = [];
  /**
   * flush() walks the symbols only when something can be due: the earliest dueAt of any symbol, and the
   * earliest time any retained candle leaves the lateness window. Candle ends share interval boundaries, so with
   * thousands of symbols most flushes (every ~250 ms) skip the walk entirely.
   */
  private nextDue = Number.POSITIVE_INFINITY;
  private nextPrune = Number.POSITIVE_INFINITY;
  /** The collector's clock as last seen (flush `now` or a trade's receivedAt); never goes backwards. */
  private now = Number.NEGATIVE_INFINITY;

  constructor(opts: SecondAggregatorOptions, out: CandleOut) {
    this.interval = opts.intervalMs ?? 1000;
    this.grace = opts.graceMs ?? 2000;
    this.lateness = opts.latenessMs ?? 60_000;
    if (!(this.interval >= 1) || !(this.grace >= 0) || !(this.lateness >= 0)) {
      throw new RangeError('SecondAggregator: intervalMs must be >= 1, graceMs and latenessMs >= 0');
    }
    this.out = out;
  }

  add(t: Trade): void {
    this.stats.trades++;
    if (t.receivedAt > this.now) this.now = t.receivedAt;
    let s = this.bySymbol.get(t.symbol);
    if (s === undefined) s = this.newState(t.symbol);
    const ts = t.ts;
    const interval = this.interval;
    const n = s.size;
    // Fast path: the newest bucket, the one nearly every trade belongs to.
    if (n > 0) {
      const o = s.slot(n - 1);
      const lastStart = s.start(o);
      if (ts >= lastStart && ts < lastStart + interval) {
        if (this.now - (lastStart + interval) > this.lateness) this.stats.lateDropped++;
        else if (s.merge(o, t)) this.amended(s, lastStart + interval);
        return;
      }
    }
    const start = ts - (((ts % interval) + interval) % interval);
    const end = start + interval;
    if (this.now - end > this.lateness) {
      this.stats.lateDropped++;
      return;
    }
    // Walk back from the newest: out-of-order trades are nearly always for a recent bucket.
    const i = s.indexAtOrBefore(start);
    if (i >= 0) {
      const o = s.slot(i);
      if (s.start(o) === start) {
        if (s.merge(o, t)) this.amended(s, end);
        return;
      }
    }
    s.insert(i + 1, start, t);
    s.openCount++;
    s.dirtyCount++;
    this.stats.openCandles++;
    const due = end + this.grace;
    if (due < s.dueAt) s.dueAt = due;
    if (due < this.nextDue) this.nextDue = due;
    if (end + this.lateness < this.nextPrune) this.nextPrune = end + this.lateness;
  }

  flush(now: number): void {
    if (now > this.now) this.now = now;
    now = this.now;
    if (now < this.nextDue && now <= this.nextPrune) return;
    let openSymbols = 0;
    let nextDue = Number.POSITIVE_INFINITY;
    let nextPrune = Number.POSITIVE_INFINITY;
    const interval = this.interval;
    const lateness = this.lateness;
    const states = this.states;
    for (let i = 0; i < states.length; i++) {
      const s = states[i]!;
      if (now >= s.dueAt) this.emitDue(s, now);
      if (s.dueAt < nextDue) nextDue = s.dueAt;
      if (s.size > 0) {
        let firstEnd = s.start(s.slot(0)) + interval;
        if (now - firstEnd > lateness) {
          this.prune(s, now);
          firstEnd = s.size > 0 ? s.start(s.slot(0)) + interval : Number.POSITIVE_INFINITY;
        }
        if (firstEnd + lateness < nextPrune) nextPrune = firstEnd + lateness;
      }
      if (s.openCount > 0) openSymbols++;
    }
    this.nextDue = nextDue;
    this.nextPrune = nextPrune;
    this.stats.openSymbols = openSymbols;
  }

  drain(): void {
    for (const s of this.states) {
      if (s.dueAt === Number.POSITIVE_INFINITY) continue;
      for (let i = 0; i < s.size; i++) {
        const o = s.slot(i);
        if (s.dirty(o)) this.emit(s, o);
      }
      s.dirtyCount = 0;
      s.dueAt = Number.POSITIVE_INFINITY;
    }
    this.stats.openSymbols = 0;
  }

  private newState(symbol: string): SymbolBuckets {
    const s = new SymbolBuckets(symbol);
    this.bySymbol.set(symbol, s);
    this.states.push(s);
    this.stats.symbols++;
    return s;
  }

  /** A late trade merged into a written (clean) bucket ending at `end`: amend it at the next due flush. */
  private amended(s: SymbolBuckets, end: number): void {
    s.dirtyCount++;
    this.stats.lateMerged++;
    const due = end + this.grace;
    if (due < s.dueAt) s.dueAt = due;
    if (due < this.nextDue) this.nextDue = due;
  }

  private emitDue(s: SymbolBuckets, now: number): void {
    let next = Number.POSITIVE_INFINITY;
    const grace = this.grace;
    const interval = this.interval;
    // Dirty buckets sit near the newest end: find the oldest one walking back, then emit oldest first.
    let from = s.size;
    for (let left = s.dirtyCount; left > 0 && from > 0; ) if (s.dirty(s.slot(--from))) left--;
    for (let i = from; i < s.size; i++) {
      const o = s.slot(i);
      if (!s.dirty(o)) continue;
      const due = s.start(o) + interval + grace;
      if (now >= due) {
        this.emit(s, o);
        s.dirtyCount--;
      } else if (due < next) next = due;
    }
    s.dueAt = next;
  }

  /** Drop written buckets that no trade can reach any more (the lateness rule drops them first). */
  private prune(s: SymbolBuckets, now: number): void {
    let n = 0;
    while (n < s.size) {
      const o = s.slot(n);
      if (s.dirty(o) || now - (s.start(o) + this.interval) <= this.lateness) break;
      n++;
    }
    if (n > 0) {
      s.dropOldest(n);
      this.stats.retainedCandles -= n;
    }
  }

  private emit(s: SymbolBuckets, o: number): void {
    if (s.written(o)) {
      this.stats.amendments++;
    } else {
      s.openCount--;
      this.stats.openCandles--;
      this.stats.retainedCandles++;
    }
    this.stats.candlesEmitted++;
    this.out(s.emit(o));
  }
}
