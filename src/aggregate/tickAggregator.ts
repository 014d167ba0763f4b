// Tick candles (100 trades by default) per symbol and per America/New_York session date (TickAggregator).
// Exactly as docs/ARCHITECTURE.md "Candle semantics" defines them. Counted trades (those whose conditions let
// them update something) count in arrival order (the order of add() calls).
//
// Session rule for trades out of date order: a symbol's session only moves forward. A trade dated after the
// open candle's session closes it (written as it is) and starts seq 0 of its date; a trade dated before it
// belongs to a series already closed, so it is dropped and counted (stats.staleSessionDropped). US equities do
// not trade around midnight ET, so this only bites on a broken clock upstream.
import { SymbolKeyedAggregator } from './aggregator.js';
import { UPDATES_ALL, UPDATES_HIGH_LOW, UPDATES_OPEN_CLOSE, UPDATES_VOLUME } from './conditions.js';
import { EtDayCache, etDayNamed } from './etDay.js';
import {
  CLOSE,
  COUNT,
  DAY_END,
  DAY_START,
  DIRTY,
  DIRTY_SEEN_AT,
  END_AT,
  HELD_FROM,
  HIGH,
  LOW,
  OPEN,
  PV,
  SEQ,
  START_AT,
  TICK_STRIDE,
  TickTable,
  VOLUME,
} from './tickState.js';
import type { CandleOut, TickCandle, Trade } from './types.js';
import { WakeQueue } from './wakeQueue.js';

export interface TickAggregatorOptions {
  /** Trades per candle (TICK_CANDLE_SIZE). */
  size?: number;
  /**
   * flush() also writes a changed, unfinished candle once it has waited this long since the first flush that
   * saw it changed, so a SIGKILL loses only seconds of the series (the store keeps the row with the most
   * trades). Infinity turns checkpoints off.
   */
  checkpointMs?: number;
}

/** The defaults, once: the settings table (TICK_CANDLE_SIZE) uses them. */
export const TICK_DEFAULTS = { size: 100, checkpointMs: 5000 } as const;

export interface TickAggregatorStats {
  trades: number;
  /** Trades whose conditions let them update nothing: in no candle, not counted toward the size. */
  uncounted: number;
  /** Candles handed to `out`: full, checkpoints and partial ones at a session change or drain. */
  candlesEmitted: number;
  fullCandles: number;
  checkpoints: number;
  /** Unfinished candles written by a session change or drain(). */
  partialCandles: number;
  /** Trades dated before their symbol's current session (see the session rule above). */
  staleSessionDropped: number;
  /** Symbols whose series moved to a new session date. */
  sessionChanges: number;
  /** Symbols continued from a stored candle by resume(). */
  resumed: number;
  /** Symbols with an unfinished candle holding trades (updated by flush). */
  openSymbols: number;
  symbols: number;
}

export class TickAggregator extends SymbolKeyedAggregator<TickAggregatorStats> {
  readonly stats: TickAggregatorStats = {
    trades: 0,
    uncounted: 0,
    candlesEmitted: 0,
    fullCandles: 0,
    checkpoints: 0,
    partialCandles: 0,
    staleSessionDropped: 0,
    sessionChanges: 0,
    resumed: 0,
    openSymbols: 0,
    symbols: 0,
  };
  private readonly size: number;
  private readonly checkpointMs: number;
  private readonly out: CandleOut;
  /** Per-symbol state, by id. */
  private readonly table = new TickTable();
  /** Ids in the order this aggregator first saw them (drain order). */
  private readonly seenIds: number[] = [];
  private readonly days = new EtDayCache();
  /** Ids made dirty since the last flush (flush stamps their DIRTY_SEEN_AT). */
  private readonly fresh: number[] = [];
  /** Dirty ids by DIRTY_SEEN_AT: flush() checkpoints from the oldest instead of walking every symbol. */
  private readonly seen = new WakeQueue<number>();
  /** Symbols with COUNT > 0. */
  private open = 0;

  constructor(opts: TickAggregatorOptions, out: CandleOut) {
    super();
    this.size = opts.size ?? TICK_DEFAULTS.size;
    this.checkpointMs = opts.checkpointMs ?? TICK_DEFAULTS.checkpointMs;
    if (!Number.isInteger(this.size) || this.size < 1)
      throw new RangeError('TickAggregator: size must be >= 1');
    if (!(this.checkpointMs >= 0)) throw new RangeError('TickAggregator: checkpointMs must be >= 0');
    this.out = out;
  }

  addAt(id: number, t: Trade): void {
    this.stats.trades++;
    const flags = t.flags;
    // A trade that may update nothing belongs to no candle and does not advance the count.
    if ((flags & UPDATES_ALL) === 0) {
      this.stats.uncounted++;
      return;
    }
    if (!this.table.has(id)) this.newState(id);
    const f = this.table.f;
    const o = id * TICK_STRIDE;
    const ts = t.ts;
    if (!(ts >= f[o + DAY_START]! && ts < f[o + DAY_END]!) && !this.enterSession(id, ts)) return;
    const p = t.price;
    const size = t.size;
    const count = f[o + COUNT]! + 1;
    if (count === 1) {
      this.open++;
      // Fields no trade has set: OPEN/CLOSE NaN, HIGH −Infinity, LOW +Infinity (null in the candle).
      f[o + OPEN] = Number.NaN;
      f[o + CLOSE] = Number.NaN;
      f[o + HIGH] = Number.NEGATIVE_INFINITY;
      f[o + LOW] = Number.POSITIVE_INFINITY;
      f[o + VOLUME] = 0;
      f[o + PV] = 0;
      f[o + START_AT] = ts;
    }
    if ((flags & UPDATES_OPEN_CLOSE) !== 0) {
      if (Number.isNaN(f[o + OPEN]!)) f[o + OPEN] = p;
      f[o + CLOSE] = p;
    }
    if ((flags & UPDATES_HIGH_LOW) !== 0) {
      if (p > f[o + HIGH]!) f[o + HIGH] = p;
      if (p < f[o + LOW]!) f[o + LOW] = p;
    }
    if ((flags & UPDATES_VOLUME) !== 0) {
      f[o + VOLUME] = f[o + VOLUME]! + size;
      f[o + PV] = f[o + PV]! + p * size;
    }
    f[o + END_AT] = ts;
    f[o + COUNT] = count;
    if (count >= this.size) {
      this.stats.fullCandles++;
      this.emit(id);
      f[o + SEQ] = f[o + SEQ]! + 1;
      f[o + COUNT] = 0;
      this.open--;
    } else if (f[o + DIRTY] === 0) {
      f[o + DIRTY] = 1;
      f[o + HELD_FROM] = ts;
      this.fresh.push(id);
    }
  }

  /** Writes the 100-tick candles whose checkpoint is due; never leaves any due (false). */
  flush(now: number): boolean {
    const f = this.table.f;
    const fresh = this.fresh;
    const seen = this.seen;
    const cp = this.checkpointMs;
    for (let i = 0; i < fresh.length; i++) {
      const o = fresh[i]! * TICK_STRIDE;
      if (f[o + DIRTY] === 0 || f[o + DIRTY_SEEN_AT] !== Number.NEGATIVE_INFINITY) continue;
      f[o + DIRTY_SEEN_AT] = now;
      if (cp !== Number.POSITIVE_INFINITY) seen.push(now, fresh[i]!);
    }
    fresh.length = 0;
    // The oldest stamp has waited longest: once it has not waited checkpointMs, none has.
    while (seen.size > 0) {
      const at = seen.peekTime();
      if (!(now - at >= cp)) break;
      const id = seen.pop()!;
      const o = id * TICK_STRIDE;
      if (f[o + DIRTY] === 0 || f[o + DIRTY_SEEN_AT] !== at) continue; // written since (and maybe changed again)
      this.stats.checkpoints++;
      this.emit(id);
    }
    this.stats.openSymbols = this.open;
    return false;
  }

  /**
   * The exchange time of the oldest trade held in an unwritten version (the ledger's coverage stops before
   * it, less its order slack); +Infinity when every trade is in an emitted candle. O(symbols).
   */
  heldFrom(): number {
    const f = this.table.f;
    let min = Number.POSITIVE_INFINITY;
    for (const id of this.seenIds) {
      const o = id * TICK_STRIDE;
      if (f[o + DIRTY] !== 0 && f[o + HELD_FROM]! < min) min = f[o + HELD_FROM]!;
    }
    return min;
  }

  drain(): void {
    const f = this.table.f;
    for (const id of this.seenIds) {
      if (f[id * TICK_STRIDE + DIRTY] === 0) continue;
      this.stats.partialCandles++;
      this.emit(id);
    }
  }

  /** Writes the symbol's unfinished candle (if changed) and forgets its series: resume() starts it again. */
  protected releaseId(id: number): void {
    const table = this.table;
    if (!table.has(id)) return;
    const f = table.f;
    const o = id * TICK_STRIDE;
    if (f[o + DIRTY] !== 0) {
      this.stats.partialCandles++;
      this.emit(id);
    }
    if (f[o + COUNT]! > 0) this.open--;
    table.init(id); // session date '': the next resume() (or trade) starts it afresh
    this.stats.openSymbols = this.open;
  }

  /**
   * Continue the series after a restart: `candles` is the latest stored candle per symbol for the current
   * session. An unfinished one (tradeCount < size) keeps filling under the same seq; a full one is followed by
   * seq + 1. Call before the first add() of that session; a symbol already in that session (or a later one)
   * is left alone, one still in an earlier session closes it (as a new trade's date would) and continues.
   */
  resume(candles: readonly TickCandle[]): void {
    const table = this.table;
    for (const c of candles) {
      const id = this.ids.idOf(c.symbol);
      if (!table.has(id)) this.newState(id);
      else if (table.sessionDate[id]! >= c.sessionDate) continue;
      const f = table.f;
      const o = id * TICK_STRIDE;
      if (f[o + DIRTY] !== 0) {
        this.stats.partialCandles++;
        this.emit(id);
      }
      const day = etDayNamed(c.sessionDate);
      table.sessionDate[id] = c.sessionDate;
      f[o + DAY_START] = day.start;
      f[o + DAY_END] = day.end;
      this.stats.resumed++;
      if (f[o + COUNT]! > 0) this.open--;
      if (c.tradeCount >= this.size) {
        f[o + SEQ] = c.seq + 1;
        f[o + COUNT] = 0;
        continue;
      }
      f[o + SEQ] = c.seq;
      f[o + COUNT] = c.tradeCount;
      if (c.tradeCount > 0) this.open++;
      f[o + OPEN] = c.open ?? Number.NaN;
      f[o + HIGH] = c.high ?? Number.NEGATIVE_INFINITY;
      f[o + LOW] = c.low ?? Number.POSITIVE_INFINITY;
      f[o + CLOSE] = c.close ?? Number.NaN;
      f[o + VOLUME] = c.volume;
      f[o + PV] = c.vwap === null ? 0 : c.vwap * c.volume;
      f[o + START_AT] = c.startAt;
      f[o + END_AT] = c.endAt;
    }
  }

  private newState(id: number): void {
    this.table.init(id);
    this.seenIds.push(id);
    this.stats.symbols++;
  }

  /** The trade's ET date is not the symbol's session date: move forward (true) or drop it (false). */
  private enterSession(id: number, ts: number): boolean {
    const day = this.days.dayOf(ts);
    const table = this.table;
    const f = table.f;
    const o = id * TICK_STRIDE;
    const current = table.sessionDate[id]!;
    if (current !== '') {
      if (day.date < current) {
        this.stats.staleSessionDropped++;
        return false;
      }
      if (day.date === current) {
        // Unreachable while the range always matches sessionDate; harmless if it ever does not.
        f[o + DAY_START] = day.start;
        f[o + DAY_END] = day.end;
        return true;
      }
      if (f[o + DIRTY] !== 0) {
        this.stats.partialCandles++;
        this.emit(id);
      }
      this.stats.sessionChanges++;
    }
    table.sessionDate[id] = day.date;
    f[o + DAY_START] = day.start;
    f[o + DAY_END] = day.end;
    f[o + SEQ] = 0;
    if (f[o + COUNT]! > 0) this.open--;
    f[o + COUNT] = 0;
    return true;
  }

  private emit(id: number): void {
    const f = this.table.f;
    const o = id * TICK_STRIDE;
    f[o + DIRTY] = 0;
    f[o + DIRTY_SEEN_AT] = Number.NEGATIVE_INFINITY;
    this.stats.candlesEmitted++;
    const volume = f[o + VOLUME]!;
    const high = f[o + HIGH]!;
    const c: TickCandle = {
      kind: '100t',
      symbol: this.ids.names[id]!,
      sessionDate: this.table.sessionDate[id]!,
      seq: f[o + SEQ]!,
      open: nullIfNaN(f[o + OPEN]!),
      high: high === Number.NEGATIVE_INFINITY ? null : high,
      low: high === Number.NEGATIVE_INFINITY ? null : f[o + LOW]!,
      close: nullIfNaN(f[o + CLOSE]!),
      volume,
      tradeCount: f[o + COUNT]!,
      vwap: volume > 0 ? f[o + PV]! / volume : null,
      startAt: f[o + START_AT]!,
      endAt: f[o + END_AT]!,
    };
    this.out(c);
  }
}

function nullIfNaN(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}
