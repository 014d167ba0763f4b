// What main holds: both aggregators behind one CandleAggregator, candles leaving through one CandleOut.
// Two named fields rather than a list, so each call site stays monomorphic on the hot path.
import type { CandleAggregator } from './aggregator.js';
import {
  SecondAggregator,
  type SecondAggregatorOptions,
  type SecondAggregatorStats,
} from './secondAggregator.js';
import { TickAggregator, type TickAggregatorOptions, type TickAggregatorStats } from './tickAggregator.js';
import type { CandleOut, TickCandle, Trade } from './types.js';

export interface CandleAggregatorsOptions {
  second: SecondAggregatorOptions;
  tick: TickAggregatorOptions;
}

export interface CandleAggregatorsStats {
  second: SecondAggregatorStats;
  tick: TickAggregatorStats;
}

export class CandleAggregators implements CandleAggregator<CandleAggregatorsStats> {
  readonly second: SecondAggregator;
  readonly tick: TickAggregator;
  /** The parts' live stats objects (not copies). */
  readonly stats: CandleAggregatorsStats;

  constructor(opts: CandleAggregatorsOptions, out: CandleOut) {
    this.second = new SecondAggregator(opts.second, out);
    this.tick = new TickAggregator(opts.tick, out);
    this.stats = { second: this.second.stats, tick: this.tick.stats };
  }

  add(t: Trade): void {
    this.second.add(t);
    this.tick.add(t);
  }

  flush(now: number): void {
    this.second.flush(now);
    this.tick.flush(now);
  }

  drain(): void {
    this.second.drain();
    this.tick.drain();
  }

  /** Before the first trade after a restart: the latest stored tick candle per symbol of this session. */
  resume(candles: readonly TickCandle[]): void {
    this.tick.resume(candles);
  }
}

export function createCandleAggregators(opts: CandleAggregatorsOptions, out: CandleOut): CandleAggregators {
  return new CandleAggregators(opts, out);
}
