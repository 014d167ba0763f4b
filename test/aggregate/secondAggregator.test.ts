import { describe, expect, it } from 'vitest';
import { SecondAggregator } from '../../src/aggregate/secondAggregator.js';
import { Collector, trade } from './trades.js';

const T = Date.UTC(2024, 6, 1, 14, 30, 5); // a whole second

function setup(opts: ConstructorParameters<typeof SecondAggregator>[0] = {}) {
  const c = new Collector();
  return { c, agg: new SecondAggregator(opts, c.out) };
}

describe('SecondAggregator', () => {
  it('a collector reading a backlog writes each second once, when its trades are read, not early and amended', () => {
    const { c, agg } = setup();
    // Live at first: a trade every 100 ms, received as stamped. Then the reader falls behind: from T + 1 s
    // on, each trade is received 4 s after its time (it sat in the socket), the flush running on the clock.
    for (let ms = 0; ms < 8_000; ms += 100) {
      const late = ms >= 1_000 ? 4_000 : 0;
      agg.add(trade('BACK', T + ms, 10 + ms / 1000, 1, { receivedAt: T + ms + late }));
      agg.flush(T + ms + late);
    }
    // Stamped up to T + 7.9 s, read by T + 11.9 s: seconds up to T + 4 s were due (end + 2 s grace) by
    // their data; the clock alone made T … T + 9 s due, and each would have come back amended.
    expect(agg.stats.amendments).toBe(0);
    expect(agg.stats.waitedForFeed).toBeGreaterThan(0);
    expect(c.seconds.map((x) => (x.bucket - T) / 1000)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(c.seconds.every((x) => x.tradeCount === 10)).toBe(true);
    // The backlog is read: the symbol goes quiet and its last seconds close on the clock.
    agg.flush(T + 12_500);
    expect(c.seconds.map((x) => (x.bucket - T) / 1000)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(agg.stats.amendments).toBe(0);
  });

  it('writes a candle only once its interval has ended and the grace has passed', () => {
    const { c, agg } = setup();
    agg.add(trade('AAPL', T + 10, 100, 5));
    agg.add(trade('AAPL', T + 900, 102, 3));
    agg.flush(T + 1000 + 1999);
    expect(c.all).toEqual([]);
    agg.flush(T + 1000 + 2000);
    expect(c.seconds).toEqual([
      {
        kind: '1s',
        symbol: 'AAPL',
        bucket: T,
        open: 100,
        high: 102,
        low: 100,
        close: 102,
        volume: 8,
        tradeCount: 2,
        vwap: (100 * 5 + 102 * 3) / 8,
        firstTradeAt: T + 10,
        lastTradeAt: T + 900,
      },
    ]);
    agg.flush(T + 10_000);
    expect(c.all).toHaveLength(1);
    expect(agg.stats).toMatchObject({ trades: 2, candlesEmitted: 1, amendments: 0, openCandles: 0 });
  });

  it('breaks ties on ts by arrival order: the first arrival opens, the last one closes', () => {
    const { c, agg } = setup();
    agg.add(trade('X', T + 500, 10));
    agg.add(trade('X', T + 100, 11));
    agg.add(trade('X', T + 100, 12));
    agg.add(trade('X', T + 700, 13));
    agg.add(trade('X', T + 700, 14));
    agg.flush(T + 3000);
    expect(c.seconds[0]).toMatchObject({ open: 11, close: 14, firstTradeAt: T + 100, lastTradeAt: T + 700 });
  });

  it('orders trades that arrive out of order within a second by their ts', () => {
    const { c, agg } = setup();
    agg.add(trade('X', T + 800, 20));
    agg.add(trade('X', T + 50, 19));
    agg.add(trade('X', T + 999, 25));
    agg.add(trade('X', T + 400, 18));
    agg.flush(T + 3000);
    expect(c.seconds[0]).toMatchObject({
      open: 19,
      close: 25,
      high: 25,
      low: 18,
      tradeCount: 4,
      firstTradeAt: T + 50,
      lastTradeAt: T + 999,
    });
  });

  it('amends a written candle with a late trade inside the lateness window, emitting the full candle again', () => {
    const { c, agg } = setup();
    agg.add(trade('X', T + 100, 10, 2));
    agg.add(trade('X', T + 600, 11, 2));
    agg.flush(T + 3000);
    expect(c.seconds).toHaveLength(1);
    // 60 s after the second ended, by the collector's clock: still inside the window (and still held).
    agg.flush(T + 1000 + 60_000);
    agg.add(trade('X', T + 50, 9, 4, { receivedAt: T + 1000 + 60_000 }));
    expect(c.seconds).toHaveLength(1); // amendments go out with the next flush
    agg.flush(T + 61_100);
    expect(c.seconds).toHaveLength(2);
    expect(c.seconds[1]).toEqual({
      kind: '1s',
      symbol: 'X',
      bucket: T,
      open: 9,
      high: 11,
      low: 9,
      close: 11,
      volume: 8,
      tradeCount: 3,
      vwap: (10 * 2 + 11 * 2 + 9 * 4) / 8,
      firstTradeAt: T + 50,
      lastTradeAt: T + 600,
    });
    expect(agg.stats).toMatchObject({ amendments: 1, lateMerged: 1, candlesEmitted: 2, lateDropped: 0 });
  });

  it('drops and counts a trade older than the lateness window', () => {
    const { c, agg } = setup({ latenessMs: 60_000 });
    agg.add(trade('X', T + 100, 10));
    agg.add(trade('Y', T + 1100, 20));
    agg.flush(T + 3000);
    agg.add(trade('X', T + 200, 99, 1, { receivedAt: T + 1000 + 60_001 }));
    agg.add(trade('Y', T + 200, 99, 1, { receivedAt: T + 1000 + 60_001 })); // never-seen second, too old too
    agg.flush(T + 70_000);
    agg.drain();
    expect(c.seconds).toHaveLength(2);
    expect(c.seconds[0]).toMatchObject({ tradeCount: 1, close: 10 });
    expect(agg.stats.lateDropped).toBe(2);
  });

  it('closes a candle by the feed clock: 2 s after its end in feed time, not collector time', () => {
    const { c, agg } = setup();
    agg.add(trade('X', T + 100, 10, 1, { receivedAt: T + 29_800 })); // the feed runs 29.7 s behind us
    agg.flush(T + 30_000);
    agg.add(trade('X', T + 300, 10, 1, { receivedAt: T + 30_000 }));
    agg.flush(T + 30_250);
    expect(c.seconds).toEqual([]); // due 2 s after its end by the feed's clock, not ours
    agg.flush(T + 32_700);
    expect(c.seconds).toMatchObject([{ bucket: T, tradeCount: 2 }]);
    expect(agg.stats.amendments).toBe(0);
  });

  it('gives vwap null when every trade has size 0, and ignores zero sizes in the mean otherwise', () => {
    const { c, agg } = setup();
    agg.add(trade('Z', T + 1, 10, 0));
    agg.add(trade('Z', T + 2, 12, 0));
    agg.add(trade('W', T + 1, 10, 0));
    agg.add(trade('W', T + 2, 20, 2));
    agg.flush(T + 3000);
    const by = new Map(c.seconds.map((x) => [x.symbol, x]));
    expect(by.get('Z')).toMatchObject({ volume: 0, vwap: null, tradeCount: 2, open: 10, close: 12 });
    expect(by.get('W')).toMatchObject({ volume: 2, vwap: 20 });
  });

  it('flushes an idle symbol by `now` alone, with no later trade', () => {
    const { c, agg } = setup({ graceMs: 500 });
    agg.add(trade('IDLE', T + 10, 5));
    agg.add(trade('BUSY', T + 10, 5));
    for (let now = T + 250; now < T + 1500; now += 250) agg.flush(now);
    expect(c.all).toEqual([]);
    agg.flush(T + 1500);
    expect(c.seconds.map((x) => x.symbol).sort()).toEqual(['BUSY', 'IDLE']);
    expect(agg.stats.openSymbols).toBe(0);
  });

  it('works with a 5000 ms interval', () => {
    const { c, agg } = setup({ intervalMs: 5000, graceMs: 2000 });
    const B = T - (T % 5000);
    agg.add(trade('X', B + 100, 1));
    agg.add(trade('X', B + 4999, 3));
    agg.add(trade('X', B + 5000, 7));
    agg.flush(B + 5000 + 1999);
    expect(c.all).toEqual([]);
    agg.flush(B + 7000);
    expect(c.seconds).toMatchObject([{ bucket: B, open: 1, close: 3, tradeCount: 2 }]);
    agg.flush(B + 12_000);
    expect(c.seconds[1]).toMatchObject({ bucket: B + 5000, open: 7, tradeCount: 1 });
  });

  it('keeps several open intervals of one symbol at once, whatever the arrival order', () => {
    const { c, agg } = setup();
    agg.add(trade('X', T + 2500, 3));
    agg.add(trade('X', T + 500, 1));
    agg.add(trade('X', T + 1500, 2));
    agg.add(trade('X', T + 600, 1.5));
    agg.add(trade('X', T + 2600, 3.5));
    expect(agg.stats.openCandles).toBe(3);
    agg.flush(T + 3000); // only the first second is due
    expect(c.seconds.map((x) => x.bucket)).toEqual([T]);
    agg.flush(T + 5000);
    expect(c.seconds.map((x) => [x.bucket, x.open, x.close, x.tradeCount])).toEqual([
      [T, 1, 1.5, 2],
      [T + 1000, 2, 2, 1],
      [T + 2000, 3, 3.5, 2],
    ]);
  });

  it('drain() writes every open candle at once, and nothing twice', () => {
    const { c, agg } = setup();
    agg.add(trade('A', T + 1, 1));
    agg.add(trade('B', T + 2, 2));
    agg.add(trade('B', T + 1002, 3));
    agg.drain();
    expect(c.seconds).toHaveLength(3);
    agg.drain();
    agg.flush(T + 100_000);
    expect(c.seconds).toHaveLength(3);
    expect(agg.stats).toMatchObject({ openCandles: 0, openSymbols: 0, candlesEmitted: 3 });
  });

  it('forgets written candles once the lateness window has passed (memory follows symbols, not trades)', () => {
    const { agg } = setup({ latenessMs: 10_000 });
    let maxHeld = 0;
    for (let s = 0; s < 2000; s++) {
      const now = T + s * 1000;
      agg.add(trade('X', now + 10, 1, 1, { receivedAt: now + 20 }));
      agg.flush(now + 250);
      maxHeld = Math.max(maxHeld, agg.stats.retainedCandles + agg.stats.openCandles);
    }
    expect(maxHeld).toBeLessThanOrEqual(14); // ~lateness/interval + grace/interval + 1
    agg.flush(T + 3_000_000);
    expect(agg.stats.retainedCandles).toBe(0);
  });

  it('never goes back in time when the clock does', () => {
    const { c, agg } = setup();
    agg.add(trade('X', T + 1, 1));
    agg.flush(T + 3000);
    agg.flush(T - 50_000); // clock stepped back: nothing re-emitted, nothing reopened
    agg.add(trade('X', T + 2, 2, 1, { receivedAt: T - 50_000 }));
    agg.flush(T + 3100);
    expect(c.seconds.map((x) => x.tradeCount)).toEqual([1, 2]);
    expect(agg.stats.amendments).toBe(1);
  });

  it('rejects nonsense options', () => {
    expect(() => setup({ intervalMs: 0 })).toThrow(RangeError);
    expect(() => setup({ graceMs: -1 })).toThrow(RangeError);
  });
});
