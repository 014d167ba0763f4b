// Tick candles (100 trades by default) per symbol and per America/New_York session date, exactly as DESIGN.md
// "Candle semantics" defines them. Trades count in arrival order (the order of add() calls).
//
// Session rule for trades out of date order: a symbol's session only moves forward. A trade dated after the
// open candle's session closes it (written as it is) and starts seq 0 of its date; a trade dated before it
// belongs to a series already closed, so it is dropped and counted (stats.staleSessionDropped). US equities do
// not trade around midnight ET, so this only bites on a broken clock upstream.
import type { CandleAggregator } from './aggregator.js';
import { EtDayCache, etDayNamed } from './etDay.js';
import { TICK_REGION, TickState } from './tickState.js';
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

export interface TickAggregatorStats {
  trades: number;
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

export class TickAggregator implements CandleAggregator<TickAggregatorStats> {
  readonly stats: TickAggregatorStats = {
    trades: 0,
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
  private readonly bySymbol = new Map<string, TickState>();
  private readonly states: TickState[] = [];
  private readonly days = new EtDayCache();
  /** Symbols made dirty since the last flush (flush stamps their dirtySeenAt). */
  private readonly fresh: TickState[] = [];
  /** Dirty symbols by dirtySeenAt: flush() checkpoints from the oldest instead of walking every symbol. */
  private readonly seen = new WakeQueue<TickState>();
  /** Symbols with count > 0. */
  private open = 0;
  /** Where new symbols get their numbers: ARENA_SYMBOLS regions per array. */
  private arena = new Float64Array(0);
  private arenaUsed = ARENA_SYMBOLS;

  constructor(opts: TickAggregatorOptions, out: CandleOut) {
    this.size = opts.size ?? 100;
    this.checkpointMs = opts.checkpointMs ?? 5000;
    if (!Number.isInteger(this.size) || this.size < 1)
      throw new RangeError('TickAggregator: size must be >= 1');
    if (!(this.checkpointMs >= 0)) throw new RangeError('TickAggregator: checkpointMs must be >= 0');
    this.out = out;
  }

  add(t: Trade): void {
    this.stats.trades++;
    let s = this.bySymbol.get(t.symbol);
    if (s === undefined) s = this.newState(t.symbol);
    const ts = t.ts;
    if (!(ts >= s.dayStart && ts < s.dayEnd) && !this.enterSession(s, ts)) return;
    const p = t.price;
    if (s.count === 0) {
      this.open++;
      s.open = p;
      s.high = p;
      s.low = p;
      s.volume = 0;
      s.pv = 0;
      s.startAt = ts;
    } else {
      if (p > s.high) s.high = p;
      if (p < s.low) s.low = p;
    }
    s.close = p;
    s.endAt = ts;
    s.volume += t.size;
    s.pv += p * t.size;
    s.count++;
    if (s.count >= this.size) {
      this.stats.fullCandles++;
      this.emit(s);
      s.seq++;
      s.count = 0;
      this.open--;
    } else if (!s.dirty) {
      s.dirty = true;
      this.fresh.push(s);
    }
  }

  flush(now: number): void {
    const fresh = this.fresh;
    const seen = this.seen;
    const cp = this.checkpointMs;
    for (let i = 0; i < fresh.length; i++) {
      const s = fresh[i]!;
      if (!s.dirty || s.dirtySeenAt !== Number.NEGATIVE_INFINITY) continue;
      s.dirtySeenAt = now;
      if (cp !== Number.POSITIVE_INFINITY) seen.push(now, s);
    }
    fresh.length = 0;
    // The oldest stamp has waited longest: once it has not waited checkpointMs, none has.
    while (seen.size > 0) {
      const at = seen.peekTime();
      if (!(now - at >= cp)) break;
      const s = seen.pop()!;
      if (!s.dirty || s.dirtySeenAt !== at) continue; // written since (and maybe changed again)
      this.stats.checkpoints++;
      this.emit(s);
    }
    this.stats.openSymbols = this.open;
  }

  drain(): void {
    for (const s of this.states) {
      if (!s.dirty) continue;
      this.stats.partialCandles++;
      this.emit(s);
    }
  }

  /**
   * Continue the series after a restart: `candles` is the latest stored candle per symbol for the current
   * session. An unfinished one (tradeCount < size) keeps filling under the same seq; a full one is followed by
   * seq + 1. Call before the first add() of that session; a symbol already in that session (or a later one)
   * is left alone, one still in an earlier session closes it (as a new trade's date would) and continues.
   */
  resume(candles: readonly TickCandle[]): void {
    for (const c of candles) {
      let s = this.bySymbol.get(c.symbol);
      if (s !== undefined && s.sessionDate >= c.sessionDate) continue;
      if (s === undefined) s = this.newState(c.symbol);
      else if (s.dirty) {
        this.stats.partialCandles++;
        this.emit(s);
      }
      const day = etDayNamed(c.sessionDate);
      s.sessionDate = c.sessionDate;
      s.dayStart = day.start;
      s.dayEnd = day.end;
      this.stats.resumed++;
      if (s.count > 0) this.open--;
      if (c.tradeCount >= this.size) {
        s.seq = c.seq + 1;
        s.count = 0;
        continue;
      }
      s.seq = c.seq;
      s.count = c.tradeCount;
      if (s.count > 0) this.open++;
      s.open = c.open;
      s.high = c.high;
      s.low = c.low;
      s.close = c.close;
      s.volume = c.volume;
      s.pv = c.vwap === null ? 0 : c.vwap * c.volume;
      s.startAt = c.startAt;
      s.endAt = c.endAt;
    }
  }

  private newState(symbol: string): TickState {
    if (this.arenaUsed === ARENA_SYMBOLS) {
      this.arena = new Float64Array(ARENA_SYMBOLS * TICK_REGION);
      this.arenaUsed = 0;
    }
    const s = new TickState(symbol, this.arena, this.arenaUsed++ * TICK_REGION);
    this.bySymbol.set(symbol, s);
    this.states.push(s);
    this.stats.symbols++;
    return s;
  }

  /** The trade's ET date is not the symbol's session date: move forward (true) or drop it (false). */
  private enterSession(s: TickState, ts: number): boolean {
    const day = this.days.dayOf(ts);
    if (s.sessionDate !== '') {
      if (day.date < s.sessionDate) {
        this.stats.staleSessionDropped++;
        return false;
      }
      if (day.date === s.sessionDate) {
        // Unreachable while the range always matches sessionDate; harmless if it ever does not.
        s.dayStart = day.start;
        s.dayEnd = day.end;
        return true;
      }
      if (s.dirty) {
        this.stats.partialCandles++;
        this.emit(s);
      }
      this.stats.sessionChanges++;
    }
    s.sessionDate = day.date;
    s.dayStart = day.start;
    s.dayEnd = day.end;
    s.seq = 0;
    if (s.count > 0) this.open--;
    s.count = 0;
    return true;
  }

  private emit(s: TickState): void {
    s.dirty = false;
    s.dirtySeenAt = Number.NEGATIVE_INFINITY;
    this.stats.candlesEmitted++;
    const c: TickCandle = {
      kind: '100t',
      symbol: s.symbol,
      sessionDate: s.sessionDate,
      seq: s.seq,
      open: s.open,
      high: s.high,
      low: s.low,
      close: s.close,
      volume: s.volume,
      tradeCount: s.count,
      vwap: s.volume > 0 ? s.pv / s.volume : null,
      startAt: s.startAt,
      endAt: s.endAt,
    };
    this.out(c);
  }
}

/** Symbols per arena array (~45 KB each). */
const ARENA_SYMBOLS = 512;
