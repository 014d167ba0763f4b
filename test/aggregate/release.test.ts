// release(symbols): a shard handed to another collector. Its open candles are written as at a drain and its
// state forgotten, so a re-acquire continues from the stored series (resume) exactly.
import { describe, expect, it } from 'vitest';
import { Aggregators } from '../../src/aggregate/aggregator.js';
import { SecondAggregator } from '../../src/aggregate/secondAggregator.js';
import { TickAggregator } from '../../src/aggregate/tickAggregator.js';
import { Collector, trade } from './trades.js';

const T = Date.UTC(2024, 6, 1, 14, 30, 0); // 2024-07-01 10:30 ET

function setup() {
  const c = new Collector();
  const second = new SecondAggregator({ intervalMs: 1000, graceMs: 2000, latenessMs: 60_000 }, c.out);
  const tick = new TickAggregator({ size: 3 }, c.out);
  return { c, second, tick, aggs: new Aggregators({ second, tick }) };
}

describe('release(symbols)', () => {
  it('writes the open 1-second and partial 100-tick candles of those symbols only', () => {
    const { c, aggs } = setup();
    aggs.add(trade('A', T + 100, 10, 1, { receivedAt: T + 100 }));
    aggs.add(trade('A', T + 200, 11, 1, { receivedAt: T + 200 }));
    aggs.add(trade('B', T + 300, 20, 1, { receivedAt: T + 300 }));
    aggs.release(['A', 'NEVER_SEEN']);
    expect(c.seconds.map((s) => [s.symbol, s.tradeCount])).toEqual([['A', 2]]);
    expect(c.ticks.map((t) => [t.symbol, t.seq, t.tradeCount])).toEqual([['A', 0, 2]]);
    c.clear();
    aggs.drain(); // A has nothing left; B is still held
    expect(c.all.map((x) => [x.kind, x.symbol])).toEqual([
      ['1s', 'B'],
      ['100t', 'B'],
    ]);
  });

  it('a re-acquire resumes the series from the stored candle, continuing exactly', () => {
    const { c, tick, aggs } = setup();
    for (let i = 0; i < 5; i++) aggs.add(trade('A', T + i, 10 + i, 1, { receivedAt: T + i }));
    aggs.release(['A']);
    const stored = c.ticks.at(-1)!;
    expect(stored).toMatchObject({ seq: 1, tradeCount: 2, open: 13, close: 14 });
    tick.resume([stored]);
    c.clear();
    aggs.add(trade('A', T + 10, 15, 1, { receivedAt: T + 10 }));
    // seq 1 completes with its stored 2 trades + 1 new; the next trades start seq 2.
    expect(c.ticks).toEqual([
      expect.objectContaining({ seq: 1, tradeCount: 3, open: 13, close: 15, high: 15 }),
    ]);
    aggs.add(trade('A', T + 11, 16, 1, { receivedAt: T + 11 }));
    aggs.add(trade('A', T + 12, 17, 1, { receivedAt: T + 12 }));
    aggs.drain();
    expect(c.ticks.at(-1)).toMatchObject({ seq: 2, tradeCount: 2, open: 16, close: 17 });
  });

  it('without a resume after release, a symbol starts its date afresh (seq 0), not where it left off', () => {
    const { c, aggs } = setup();
    for (let i = 0; i < 4; i++) aggs.add(trade('A', T + i, 10, 1, { receivedAt: T + i }));
    aggs.release(['A']);
    c.clear();
    aggs.add(trade('A', T + 20, 10, 1, { receivedAt: T + 20 }));
    aggs.drain();
    expect(c.ticks[0]).toMatchObject({ seq: 0, tradeCount: 1 });
  });
});
