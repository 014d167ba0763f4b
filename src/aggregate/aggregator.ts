// The one shape every candle aggregator has. Pure: no I/O, no clock reads, no timers. Time comes in as `now`
// (the collector's clock, epoch ms) through flush(), and through each trade's `receivedAt`.
import type { Trade } from './types.js';

export interface CandleAggregator<S extends object = object> {
  /** One trade, in arrival order. May emit (synchronously, through the CandleOut given to the constructor). */
  add(t: Trade): void;
  /** Emit what is due at `now`; main calls it every ~250 ms so idle symbols flush too. */
  flush(now: number): void;
  /** Emit every candle still held (partial ones as they are): session close and shutdown. */
  drain(): void;
  /** Plain counters, read by the metrics layer at scrape time. */
  readonly stats: Readonly<S>;
}

/** Feeds every trade to each aggregator in turn: `new Aggregators({ second, tick })`. */
export class Aggregators<S extends Record<string, CandleAggregator>> implements CandleAggregator {
  readonly parts: S;
  private readonly list: CandleAggregator[];

  constructor(parts: S) {
    this.parts = parts;
    this.list = Object.values(parts);
  }

  add(t: Trade): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i]!.add(t);
  }

  flush(now: number): void {
    for (const a of this.list) a.flush(now);
  }

  drain(): void {
    for (const a of this.list) a.drain();
  }

  /** `{ second: {...}, tick: {...} }`: each part's live stats object (not a copy). */
  get stats(): { [K in keyof S]: S[K]['stats'] } {
    const out = {} as { [K in keyof S]: S[K]['stats'] };
    for (const k of Object.keys(this.parts) as (keyof S)[]) out[k] = this.parts[k]!.stats;
    return out;
  }
}
