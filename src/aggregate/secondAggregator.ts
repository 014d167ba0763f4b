// Time candles (1 s by default) per symbol (SecondAggregator).
// Exactly as docs/ARCHITECTURE.md "Candle semantics" defines them (each field set only by the trades whose
// conditions allow it).
// Per symbol (SymbolBuckets) the dirty buckets, open or amended, sorted by start; written candles still inside
// the lateness window (so a late trade can amend the full candle) sit in one shared log (WrittenCandles) and
// move back to their symbol when a late trade arrives for them. All of it is Float64Array slots: at thousands
// of symbols a candle object per bucket, kept for the 60 s window, made this cache and GC bound. Symbols are
// found by id (symbolIds.ts, shared with TickAggregator under Aggregators); the hot path touches the newest
// bucket and allocates nothing.
import { SymbolKeyedAggregator } from './aggregator.js';
import { UPDATES_ALL } from './conditions.js';
import { FIELDS, REGION_SLOTS, SymbolBuckets } from './symbolBuckets.js';
import type { CandleOut, Trade } from './types.js';
import { WakeQueue } from './wakeQueue.js';
import { WrittenCandles } from './writtenCandles.js';

export interface SecondAggregatorOptions {
  /** Candle length (CANDLE_INTERVAL_MS). */
  intervalMs?: number;
  /** Write a candle once `now >= bucketEnd + graceMs` (CANDLE_GRACE_MS). */
  graceMs?: number;
  /** Late trades with `now - bucketEnd <= latenessMs` amend; older ones are dropped (CANDLE_LATENESS_MS). */
  latenessMs?: number;
  /**
   * The symbols expected (SYMBOLS): the written candles kept for amendment are given room for all of them
   * trading every interval of the window, so the log never grows by copying while the first window fills.
   */
  symbols?: number;
  /**
   * A candle that is due waits while its symbol's trades are still arriving in order (the newest arrived
   * within `feedActiveMs` of the collector's clock) stamped more than `behindMs` before the due time: the
   * collector is reading a backlog (it fell behind the feed) and the candle's trades are still in it. A quiet
   * symbol's candles close on the clock as before, and a late trade (older than the symbol's newest) makes
   * nothing wait. Written early, each candle would be written again by its own late trades: at 5,000 symbols
   * a backlog of seconds made nearly every candle an amendment, and their work made the backlog grow.
   * Defaults 500 and 1,000 ms.
   */
  feedActiveMs?: number;
  behindMs?: number;
}

/** A candle waiting for its symbol's backlog is looked at again by the first flush this much later. */
export const WAIT_RECHECK_MS = 100;

/** The defaults, once: the settings table (CANDLE_INTERVAL_MS, CANDLE_GRACE_MS, CANDLE_LATENESS_MS) uses them. */
export const SECOND_DEFAULTS = { intervalMs: 1000, graceMs: 2000, latenessMs: 60_000 } as const;

export interface SecondAggregatorStats {
  /** Every trade given to add(). */
  trades: number;
  /** Trades whose conditions let them update nothing: in no candle. */
  uncounted: number;
  /** Candles handed to `out`, amendments included. */
  candlesEmitted: number;
  /** Re-emissions of an already written candle after a late trade merged into it. */
  amendments: number;
  /** Trades older than the lateness window: not in any candle. */
  lateDropped: number;
  /** Trades that arrived for a candle already written (and amended it). */
  lateMerged: number;
  /** Looks (every WAIT_RECHECK_MS) at which a due candle waited: its symbol's trades being read were behind. */
  waitedForFeed: number;
  /** Candles not yet written. */
  openCandles: number;
  /** Symbols with at least one candle not yet written (as of the last flush or drain). */
  openSymbols: number;
  /**
   * Written candles kept for possible amendment. They are let go in the order written once out of the window,
   * so one re-written by an amendment can be counted up to about one window longer.
   */
  retainedCandles: number;
  /** Symbols seen. */
  symbols: number;
}

export class SecondAggregator extends SymbolKeyedAggregator<SecondAggregatorStats> {
  readonly stats: SecondAggregatorStats = {
    trades: 0,
    uncounted: 0,
    candlesEmitted: 0,
    amendments: 0,
    lateDropped: 0,
    lateMerged: 0,
    waitedForFeed: 0,
    openCandles: 0,
    openSymbols: 0,
    retainedCandles: 0,
    symbols: 0,
  };
  private readonly interval: number;
  private readonly grace: number;
  private readonly lateness: number;
  private readonly feedActive: number;
  private readonly behind: number;
  private readonly out: CandleOut;
  /** State by symbol id (undefined: an id this aggregator has not seen). */
  private readonly byId: (SymbolBuckets | undefined)[] = [];
  /** Every symbol, for drain(). */
  private readonly states: SymbolBuckets[] = [];
  private readonly written: WrittenCandles;
  /** Where new symbols get their ring region: ARENA_SYMBOLS regions per array. */
  private arena = new Float64Array(0);
  private arenaUsed = ARENA_SYMBOLS;
  /** When each symbol's oldest dirty bucket is due: flush() visits only those whose time has come. */
  private readonly wakes = new WakeQueue<SymbolBuckets>();
  /** Reused by flush(): the symbols whose wake-up has come. */
  private readonly woken: SymbolBuckets[] = [];
  /** Symbols with openCount > 0. */
  private openSymbols = 0;

  constructor(opts: SecondAggregatorOptions, out: CandleOut) {
    super();
    this.interval = opts.intervalMs ?? SECOND_DEFAULTS.intervalMs;
    this.grace = opts.graceMs ?? SECOND_DEFAULTS.graceMs;
    this.lateness = opts.latenessMs ?? SECOND_DEFAULTS.latenessMs;
    this.feedActive = opts.feedActiveMs ?? 500;
    this.behind = opts.behindMs ?? 1_000;
    if (!(this.interval >= 1) || !(this.grace >= 0) || !(this.lateness >= 0)) {
      throw new RangeError('SecondAggregator: intervalMs must be >= 1, graceMs and latenessMs >= 0');
    }
    this.out = out;
    const window = Math.ceil((this.interval + this.grace + this.lateness) / this.interval) + 1;
    this.written = new WrittenCandles((opts.symbols ?? 0) * window);
  }

  addAt(id: number, t: Trade): void {
    this.stats.trades++;
    const off = this.clock.offsetOf(id);
    let s = this.byId[id];
    if (s !== undefined && off !== s.offset) {
      // The feed showed it is further ahead: this symbol's candles come due earlier (collector time).
      s.offset = off;
      if (s.dueAt !== Number.POSITIVE_INFINITY) this.wakeBy(s, s.dueAt - off);
    }
    // A trade that may update nothing (an official open/close report) belongs to no candle.
    if ((t.flags & UPDATES_ALL) === 0) {
      this.stats.uncounted++;
      return;
    }
    if (s === undefined) {
      s = this.newState(id);
      s.offset = off;
    }
    // The symbol's data, as read: a late trade (before its newest) is not the feed moving on.
    const ts = t.ts;
    if (ts >= s.newestTs) {
      s.newestTs = ts;
      s.lastSeenAt = t.receivedAt;
    }
    // Lateness and dueness are measured on the feed's clock (event time), not the collector's.
    const feedNow = this.clock.now + off;
    const interval = this.interval;
    const n = s.size;
    // Fast path: the newest dirty bucket, the one nearly every trade belongs to.
    if (n > 0) {
      const o = s.slot(n - 1);
      const lastStart = s.start(o);
      if (ts >= lastStart && ts < lastStart + interval) {
        if (feedNow - (lastStart + interval) > this.lateness) this.stats.lateDropped++;
        else s.merge(o, t);
        return;
      }
    }
    const start = ts - (((ts % interval) + interval) % interval);
    const end = start + interval;
    if (feedNow - end > this.lateness) {
      this.stats.lateDropped++;
      return;
    }
    // Walk back from the newest: out-of-order trades are nearly always for a recent bucket.
    const i = s.indexAtOrBefore(start);
    if (i >= 0 && s.start(s.slot(i)) === start) {
      s.merge(s.slot(i), t);
      return;
    }
    const log = this.written;
    const p = start > s.maxWrittenStart ? -1 : log.find(s.lastWritten, start);
    if (p >= 0) {
      // A late trade for a written candle: it comes back from the log, amended, and is written again.
      s.merge(s.insertCopy(i + 1, log.slots, log.slot(p)), t);
      log.kill(p);
      this.stats.lateMerged++;
    } else {
      s.insert(i + 1, start, t);
      if (s.openCount++ === 0) this.openSymbols++;
      this.stats.openCandles++;
    }
    const due = end + this.grace;
    if (due < s.dueAt) s.dueAt = due;
    this.wakeBy(s, due - off);
  }

  /**
   * Writes the candles due by `now`, visiting at most `maxSymbols` symbols (the rest stay due: the caller
   * calls again, after letting the event loop turn, so 5,000 candles due at once are not one long task).
   * True when some are still due.
   */
  flush(now: number, maxSymbols = Number.POSITIVE_INFINITY): boolean {
    this.clock.advance(now);
    now = this.clock.now;
    const wakes = this.wakes;
    if (wakes.peekTime() <= now) {
      // Take every wake-up that has come first, then visit: a visit schedules the symbol's next one (later).
      const woken = this.woken;
      while (wakes.peekTime() <= now && woken.length < maxSymbols) {
        const at = wakes.peekTime();
        const s = wakes.pop()!;
        if (s.wakeAt !== at) continue; // stale: the symbol was rescheduled earlier, or already taken
        s.wakeAt = Number.POSITIVE_INFINITY;
        woken.push(s);
      }
      for (let i = 0; i < woken.length; i++) {
        const s = woken[i]!;
        // One waiting for its backlog is looked at again WAIT_RECHECK_MS later (at every flush, 5,000
        // waiting symbols were most of the collector's work while it was behind).
        // A visit inside the wait (a trade woke it) keeps the wait's end.
        if (this.emitDue(s, now + s.offset, now)) {
          if (s.waitUntil <= now) s.waitUntil = now + WAIT_RECHECK_MS;
          this.wakeBy(s, s.waitUntil);
        } else if (s.size > 0) this.wakeBy(s, s.dueAt - s.offset);
      }
      woken.length = 0;
    }
    this.stats.retainedCandles -= this.written.prune(now, this.interval, this.lateness);
    this.stats.openSymbols = this.openSymbols;
    return wakes.peekTime() <= now;
  }

  /**
   * The start of the oldest candle not yet written in its latest version (open, or amended by a late trade):
   * every trade still held here is timed at or after it. +Infinity when none. O(symbols).
   */
  heldFrom(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const s of this.states) {
      if (s.size === 0) continue;
      const start = s.start(s.slot(0));
      if (start < min) min = start;
    }
    return min;
  }

  drain(): void {
    for (const s of this.states) {
      while (s.size > 0) this.emitOldest(s);
      s.dueAt = Number.POSITIVE_INFINITY;
      // Its wake-up, if queued, finds nothing due and lapses.
    }
    this.stats.openSymbols = this.openSymbols;
  }

  /**
   * Writes the symbol's open candles and forgets them: late trades for its written candles no longer amend
   * them here (the next owner writes the symbol; the no-partial-overwrite rule guards the stored rows).
   */
  protected releaseId(id: number): void {
    const s = this.byId[id];
    if (s === undefined) return;
    while (s.size > 0) this.emitOldest(s);
    s.dueAt = Number.POSITIVE_INFINITY;
    s.lastWritten = -1;
    s.maxWrittenStart = Number.NEGATIVE_INFINITY;
    this.stats.openSymbols = this.openSymbols;
  }

  private newState(id: number): SymbolBuckets {
    const symbol = this.ids.names[id]!;
    const region = REGION_SLOTS * FIELDS;
    if (this.arenaUsed === ARENA_SYMBOLS) {
      this.arena = new Float64Array(ARENA_SYMBOLS * region);
      this.arenaUsed = 0;
    }
    const s = new SymbolBuckets(symbol, this.arena, this.arenaUsed++ * region);
    const byId = this.byId;
    while (byId.length <= id) byId.push(undefined);
    byId[id] = s;
    this.states.push(s);
    this.stats.symbols++;
    return s;
  }

  /** flush() must visit s at collector time `at` (or earlier, as already queued). */
  private wakeBy(s: SymbolBuckets, at: number): void {
    if (at < s.wakeAt) {
      s.wakeAt = at;
      this.wakes.push(at, s);
    }
  }

  /**
   * Emits the dirty buckets due at feed time `now` (collector time `at`), oldest first (due order is start
   * order). True when the oldest due one waits for the symbol's backlog (SecondAggregatorOptions.behindMs).
   */
  private emitDue(s: SymbolBuckets, now: number, at: number): boolean {
    const interval = this.interval;
    const grace = this.grace;
    let due = Number.POSITIVE_INFINITY;
    while (s.size > 0) {
      due = s.start(s.slot(0)) + interval + grace; // (start + interval) + grace, as add() computes it
      if (now < due) break;
      if (at - s.lastSeenAt <= this.feedActive && s.newestTs < due - this.behind) {
        this.stats.waitedForFeed++;
        s.dueAt = due;
        return true;
      }
      this.emitOldest(s);
      due = Number.POSITIVE_INFINITY;
    }
    s.dueAt = due;
    return false;
  }

  private emitOldest(s: SymbolBuckets): void {
    if (s.oldestWritten()) {
      this.stats.amendments++;
    } else {
      if (--s.openCount === 0) this.openSymbols--;
      this.stats.openCandles--;
      this.stats.retainedCandles++;
    }
    this.stats.candlesEmitted++;
    const c = s.oldestCandle();
    const log = this.written;
    const o = s.shiftOldest();
    s.lastWritten = log.append(s.slots, o, s.lastWritten, s.offset);
    if (c.bucket > s.maxWrittenStart) s.maxWrittenStart = c.bucket;
    this.out(c);
  }
}

/** Symbols per arena array (each region REGION_SLOTS slots: ~200 KB per array). */
const ARENA_SYMBOLS = 512;
