// Time candles (1 s by default), exactly as DESIGN.md "Candle semantics" defines them.
// Per symbol we keep a short array of buckets sorted by start: the open ones (not yet written) and the written
// ones still inside the lateness window (so a late trade can amend the full candle). The Map is keyed by symbol
// only; the hot path touches the newest bucket and allocates nothing.
import type { CandleAggregator } from './aggregator.js';
import type { CandleOut, SecondCandle, Trade } from './types.js';

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

/** One (symbol, interval) accumulator. first/last trade time are the open/close times (min/max ts). */
interface Bucket {
  start: number;
  end: number;
  open: number;
  openTs: number;
  close: number;
  closeTs: number;
  high: number;
  low: number;
  volume: number;
  /** Σ price·size, in arrival order. */
  pv: number;
  count: number;
  /** Holds trades not yet in an emitted version. */
  dirty: boolean;
  /** Written at least once (a later emission is an amendment). */
  written: boolean;
}

interface SymbolState {
  symbol: string;
  /** Sorted by start, oldest first. */
  buckets: Bucket[];
  /** Earliest `end + grace` among dirty buckets; Infinity when none (flush skips the symbol in O(1)). */
  dueAt: number;
  /** Buckets not yet written. */
  openCount: number;
  /** Dirty buckets (open or amended): emitDue stops once it has seen them all. */
  dirtyCount: number;
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
  private readonly bySymbol = new Map<string, SymbolState>();
  /** Array twin of the Map: flush walks it without an iterator. */
  private readonly states: SymbolState[] = [];
  /** Pruned buckets for reuse: written candles live up to the lateness window, then die old (GC churn). */
  private readonly spare: Bucket[] = [];
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
    const buckets = s.buckets;
    const last = buckets[buckets.length - 1];
    // Fast path: the newest bucket, the one nearly every trade belongs to.
    if (last !== undefined && ts >= last.start && ts < last.end) {
      if (this.now - last.end > this.lateness) {
        this.stats.lateDropped++;
        return;
      }
      this.merge(s, last, t);
      return;
    }
    const start = ts - (((ts % this.interval) + this.interval) % this.interval);
    const end = start + this.interval;
    if (this.now - end > this.lateness) {
      this.stats.lateDropped++;
      return;
    }
    // Walk back from the newest: out-of-order trades are nearly always for a recent bucket.
    let i = buckets.length - 1;
    while (i >= 0 && buckets[i]!.start > start) i--;
    const found = buckets[i];
    if (found !== undefined && found.start === start) {
      this.merge(s, found, t);
      return;
    }
    const b = this.takeBucket(start, end, t);
    if (i === buckets.length - 1) buckets.push(b);
    else buckets.splice(i + 1, 0, b);
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
    const states = this.states;
    for (let i = 0; i < states.length; i++) {
      const s = states[i]!;
      if (now >= s.dueAt) this.emitDue(s, now);
      if (s.dueAt < nextDue) nextDue = s.dueAt;
      let first = s.buckets[0];
      if (first !== undefined && now - first.end > this.lateness) {
        this.prune(s, now);
        first = s.buckets[0];
      }
      if (first !== undefined && first.end + this.lateness < nextPrune) nextPrune = first.end + this.lateness;
      if (s.openCount > 0) openSymbols++;
    }
    this.nextDue = nextDue;
    this.nextPrune = nextPrune;
    this.stats.openSymbols = openSymbols;
  }

  drain(): void {
    for (const s of this.states) {
      if (s.dueAt === Number.POSITIVE_INFINITY) continue;
      for (const b of s.buckets) if (b.dirty) this.emit(s, b);
      s.dirtyCount = 0;
      s.dueAt = Number.POSITIVE_INFINITY;
    }
    this.stats.openSymbols = 0;
  }

  private newState(symbol: string): SymbolState {
    const s: SymbolState = {
      symbol,
      buckets: [],
      dueAt: Number.POSITIVE_INFINITY,
      openCount: 0,
      dirtyCount: 0,
    };
    this.bySymbol.set(symbol, s);
    this.states.push(s);
    this.stats.symbols++;
    return s;
  }

  private merge(s: SymbolState, b: Bucket, t: Trade): void {
    const ts = t.ts;
    const p = t.price;
    // Ties on ts: the earlier arrival keeps `open`, the later one takes `close`.
    if (ts < b.openTs) {
      b.openTs = ts;
      b.open = p;
    }
    if (ts >= b.closeTs) {
      b.closeTs = ts;
      b.close = p;
    }
    if (p > b.high) b.high = p;
    if (p < b.low) b.low = p;
    b.volume += t.size;
    b.pv += p * t.size;
    b.count++;
    if (!b.dirty) {
      // Only a written bucket is clean: this is a late trade, amend it at the next flush.
      b.dirty = true;
      s.dirtyCount++;
      this.stats.lateMerged++;
      const due = b.end + this.grace;
      if (due < s.dueAt) s.dueAt = due;
      if (due < this.nextDue) this.nextDue = due;
    }
  }

  private takeBucket(start: number, end: number, t: Trade): Bucket {
    const b = this.spare.pop();
    if (b === undefined) return newBucket(start, end, t);
    b.start = start;
    b.end = end;
    b.open = t.price;
    b.openTs = t.ts;
    b.close = t.price;
    b.closeTs = t.ts;
    b.high = t.price;
    b.low = t.price;
    b.volume = t.size;
    b.pv = t.price * t.size;
    b.count = 1;
    b.dirty = true;
    b.written = false;
    return b;
  }

  private emitDue(s: SymbolState, now: number): void {
    let next = Number.POSITIVE_INFINITY;
    const grace = this.grace;
    const buckets = s.buckets;
    // Dirty buckets sit near the newest end: find the oldest one walking back, then emit oldest first.
    let from = buckets.length;
    for (let left = s.dirtyCount; left > 0 && from > 0; ) if (buckets[--from]!.dirty) left--;
    for (let i = from; i < buckets.length; i++) {
      const b = buckets[i]!;
      if (!b.dirty) continue;
      const due = b.end + grace;
      if (now >= due) {
        this.emit(s, b);
        s.dirtyCount--;
      } else if (due < next) next = due;
    }
    s.dueAt = next;
  }

  /** Drop written buckets that no trade can reach any more (the lateness rule drops them first). */
  private prune(s: SymbolState, now: number): void {
    const buckets = s.buckets;
    let n = 0;
    while (n < buckets.length) {
      const b = buckets[n]!;
      if (b.dirty || now - b.end <= this.lateness) break;
      n++;
    }
    if (n > 0) {
      for (let i = 0; i < n && this.spare.length < MAX_SPARE; i++) this.spare.push(buckets[i]!);
      buckets.splice(0, n);
      this.stats.retainedCandles -= n;
    }
  }

  private emit(s: SymbolState, b: Bucket): void {
    b.dirty = false;
    if (b.written) {
      this.stats.amendments++;
    } else {
      b.written = true;
      s.openCount--;
      this.stats.openCandles--;
      this.stats.retainedCandles++;
    }
    this.stats.candlesEmitted++;
    const c: SecondCandle = {
      kind: '1s',
      symbol: s.symbol,
      bucket: b.start,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: b.volume,
      tradeCount: b.count,
      vwap: b.volume > 0 ? b.pv / b.volume : null,
      firstTradeAt: b.openTs,
      lastTradeAt: b.closeTs,
    };
    this.out(c);
  }
}

/** Enough spare buckets for the turnover of thousands of symbols, without holding memory after a burst. */
const MAX_SPARE = 16_384;

function newBucket(start: number, end: number, t: Trade): Bucket {
  return {
    start,
    end,
    open: t.price,
    openTs: t.ts,
    close: t.price,
    closeTs: t.ts,
    high: t.price,
    low: t.price,
    volume: t.size,
    pv: t.price * t.size,
    count: 1,
    dirty: true,
    written: false,
  };
}
