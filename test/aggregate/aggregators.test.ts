import { describe, expect, it } from 'vitest';
import { Aggregators } from '../../src/aggregate/aggregator.js';
import { SecondAggregator } from '../../src/aggregate/secondAggregator.js';
import { TickAggregator } from '../../src/aggregate/tickAggregator.js';
import { Collector, trade } from './trades.js';

const T = Date.UTC(2024, 6, 1, 14, 30, 0);

describe('Aggregators', () => {
  it('feeds every trade to each part and passes flush and drain through', () => {
    const c = new Collector();
    const second = new SecondAggregator({ intervalMs: 1000, graceMs: 2000, latenessMs: 60_000 }, c.out);
    const tick = new TickAggregator({ size: 2, checkpointMs: 5000 }, c.out);
    const aggs = new Aggregators({ second, tick });
    aggs.add(trade('X', T + 100, 10));
    aggs.add(trade('X', T + 200, 11));
    aggs.add(trade('X', T + 1300, 12));
    expect(c.all.map((x) => x.kind)).toEqual(['100t']);
    aggs.flush(T + 3000);
    expect(c.seconds).toMatchObject([{ bucket: T, tradeCount: 2 }]);
    aggs.drain();
    expect(c.seconds).toHaveLength(2);
    expect(c.ticks.map((x) => [x.seq, x.tradeCount])).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(aggs.stats.second).toBe(second.stats);
    expect(aggs.stats.second.trades).toBe(3);
    expect(aggs.stats.tick).toMatchObject({ trades: 3, fullCandles: 1, partialCandles: 1 });
  });

  it('remembers when each symbol last traded, for a bounded number of symbols', () => {
    const c = new Collector();
    const second = new SecondAggregator({ intervalMs: 1000, graceMs: 2000, latenessMs: 60_000 }, c.out);
    const tick = new TickAggregator({ size: 2, checkpointMs: 5000 }, c.out);
    const aggs = new Aggregators({ second, tick });
    aggs.add(trade('A', T, 10, 1, { receivedAt: T + 5 }));
    aggs.add(trade('B', T + 10, 10, 1, { receivedAt: T + 15 }));
    aggs.add(trade('A', T + 20, 10, 1, { receivedAt: T + 25 }));
    aggs.add(trade('C', T + 30, 10, 1, { receivedAt: T + 35 }));
    expect(aggs.lastTrades(10)).toEqual([
      ['A', T + 25],
      ['B', T + 15],
      ['C', T + 35],
    ]);
    expect(aggs.lastTrades(2)).toHaveLength(2);
  });
});
