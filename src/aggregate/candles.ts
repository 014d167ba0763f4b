// What main builds: both aggregators behind one CandleAggregator, candles leaving through one CandleOut.
import { Aggregators } from './aggregator.js';
import { SecondAggregator, type SecondAggregatorOptions } from './secondAggregator.js';
import { TickAggregator, type TickAggregatorOptions } from './tickAggregator.js';
import type { CandleOut } from './types.js';

export interface CandleAggregatorsOptions {
  second: SecondAggregatorOptions;
  tick: TickAggregatorOptions;
}

export type CandleAggregators = Aggregators<{ second: SecondAggregator; tick: TickAggregator }>;

export function createCandleAggregators(opts: CandleAggregatorsOptions, out: CandleOut): CandleAggregators {
  return new Aggregators({
    second: new SecondAggregator(opts.second, out),
    tick: new TickAggregator(opts.tick, out),
  });
}
