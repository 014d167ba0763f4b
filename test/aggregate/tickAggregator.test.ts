import { describe, expect, it } from 'vitest';
import { EtDayCache, etDayNamed, etDayOf } from '../../src/aggregate/etDay.js';
import { TickAggregator } from '../../src/aggregate/tickAggregator.js';
import type { TickCandle } from '../../src/aggregate/types.js';
import { Collector, trade } from './trades.js';

const T = Date.UTC(2024, 6, 1, 14, 30, 0); // 2024-07-01 10:30 ET

function setup(opts: ConstructorParameters<typeof TickAggregator>[0] = {}) {
  const c = new Collector();
  return { c, agg: new TickAggregator(opts, c.out) };
}

describe('TickAggregator', () => {
  it('emits a candle when it holds `size` trades, in arrival order, seq counting from 0', () => {
    const { c, agg } = setup({ size: 3 });
    agg.add(trade('X', T + 500, 10, 1));
    agg.add(trade('X', T + 100, 12, 2)); // earlier ts, later arrival: still the 2nd trade
    expect(c.all).toEqual([]);
    agg.add(trade('X', T + 300, 8, 1));
    agg.add(trade('X', T + 900, 9, 1));
    expect(c.ticks).toEqual<TickCandle[]>([
      {
        kind: '100t',
        symbol: 'X',
        sessionDate: '2024-07-01',
        seq: 0,
        open: 10,
        high: 12,
        low: 8,
        close: 8,
        volume: 4,
        tradeCount: 3,
        vwap: (10 + 24 + 8) / 4,
        startAt: T + 500,
        endAt: T + 300,
      },
    ]);
    agg.drain();
    expect(c.ticks[1]).toMatchObject({ seq: 1, tradeCount: 1, open: 9, close: 9 });
    expect(agg.stats).toMatchObject({ fullCandles: 1, partialCandles: 1, candlesEmitted: 2 });
  });

  it('works with size 50 and keeps symbols apart', () => {
    const { c, agg } = setup({ size: 50 });
    for (let i = 0; i < 120; i++) {
      agg.add(trade('A', T + i, 100 + i, 1));
      if (i % 2 === 0) agg.add(trade('B', T + i, 1, 0));
    }
    expect(c.ticks.map((x) => [x.symbol, x.seq, x.tradeCount, x.open, x.close])).toEqual([
      ['A', 0, 50, 100, 149],
      ['B', 0, 50, 1, 1],
      ['A', 1, 50, 150, 199],
    ]);
    expect(c.ticks[1]!.vwap).toBeNull();
    agg.drain();
    expect(c.ticks.slice(3).map((x) => [x.symbol, x.seq, x.tradeCount])).toEqual([
      ['A', 2, 20],
      ['B', 1, 10],
    ]);
  });

  it('starts a new session at midnight ET, writing the unfinished candle of the old one', () => {
    const { c, agg } = setup({ size: 100 });
    const midnight = Date.UTC(2024, 6, 2, 4, 0, 0); // 2024-07-02 00:00 EDT
    agg.add(trade('X', midnight - 1, 5));
    agg.add(trade('X', midnight - 1, 6));
    agg.add(trade('X', midnight, 7));
    expect(c.ticks).toMatchObject([{ sessionDate: '2024-07-01', seq: 0, tradeCount: 2, close: 6 }]);
    agg.drain();
    expect(c.ticks[1]).toMatchObject({ sessionDate: '2024-07-02', seq: 0, tradeCount: 1, open: 7 });
    expect(agg.stats.sessionChanges).toBe(1);
  });

  it('labels sessions right across both DST changes (23- and 25-hour days)', () => {
    const { c, agg } = setup({ size: 1 });
    const cases: [number, string][] = [
      [Date.UTC(2024, 2, 10, 4, 59, 59, 999), '2024-03-09'], // EST midnight is 05:00Z
      [Date.UTC(2024, 2, 10, 5, 0, 0), '2024-03-10'],
      [Date.UTC(2024, 2, 11, 3, 59, 59, 999), '2024-03-10'], // the 23-hour day ends at 04:00Z (EDT)
      [Date.UTC(2024, 2, 11, 4, 0, 0), '2024-03-11'],
      [Date.UTC(2024, 10, 3, 3, 59, 59, 999), '2024-11-02'],
      [Date.UTC(2024, 10, 3, 4, 0, 0), '2024-11-03'],
      [Date.UTC(2024, 10, 4, 4, 59, 59, 999), '2024-11-03'], // the 25-hour day ends at 05:00Z (EST)
      [Date.UTC(2024, 10, 4, 5, 0, 0), '2024-11-04'],
    ];
    for (const [ts] of cases) agg.add(trade('X', ts, 1));
    expect(c.ticks.map((x) => [x.startAt, x.sessionDate])).toEqual(cases);
    expect(c.ticks.map((x) => x.seq)).toEqual([0, 0, 1, 0, 0, 0, 1, 0]);
    expect(etDayNamed('2024-03-10').end - etDayNamed('2024-03-10').start).toBe(23 * 3_600_000);
    expect(etDayOf(Date.UTC(2024, 10, 3, 12)).end - etDayOf(Date.UTC(2024, 10, 3, 12)).start).toBe(
      25 * 3_600_000,
    );
  });

  it('drops and counts a trade dated before its symbol’s current session', () => {
    const { c, agg } = setup({ size: 2 });
    const midnight = Date.UTC(2024, 6, 2, 4, 0, 0);
    agg.add(trade('X', midnight + 5, 1));
    agg.add(trade('X', midnight - 5, 2)); // yesterday's straggler
    agg.add(trade('X', midnight + 6, 3));
    expect(c.ticks).toMatchObject([{ sessionDate: '2024-07-02', seq: 0, tradeCount: 2, open: 1, close: 3 }]);
    expect(agg.stats.staleSessionDropped).toBe(1);
  });

  it('resumes an unfinished candle under the same seq, and a full one at seq + 1', () => {
    const { c, agg } = setup({ size: 4 });
    const stored = (symbol: string, seq: number, tradeCount: number): TickCandle => ({
      kind: '100t',
      symbol,
      sessionDate: '2024-07-01',
      seq,
      open: 10,
      high: 12,
      low: 9,
      close: 11,
      volume: 6,
      tradeCount,
      vwap: 10.5,
      startAt: T - 5000,
      endAt: T - 1000,
    });
    agg.resume([stored('A', 7, 2), stored('B', 3, 4)]);
    expect(agg.stats.resumed).toBe(2);
    agg.add(trade('A', T, 13, 2));
    agg.add(trade('A', T + 1, 8, 2));
    agg.add(trade('B', T + 2, 20, 1));
    expect(c.ticks).toEqual([
      {
        kind: '100t',
        symbol: 'A',
        sessionDate: '2024-07-01',
        seq: 7,
        open: 10,
        high: 13,
        low: 8,
        close: 8,
        volume: 10,
        tradeCount: 4,
        vwap: (10.5 * 6 + 26 + 16) / 10,
        startAt: T - 5000,
        endAt: T + 1,
      },
    ]);
    agg.drain();
    expect(c.ticks[1]).toMatchObject({ symbol: 'B', seq: 4, tradeCount: 1, open: 20, startAt: T + 2 });
  });

  it('resume ignores a symbol that already has trades, and starts over on a later date', () => {
    const { c, agg } = setup({ size: 4 });
    agg.add(trade('A', T, 1));
    const old: TickCandle = {
      kind: '100t',
      symbol: 'A',
      sessionDate: '2024-06-28',
      seq: 9,
      open: 1,
      high: 1,
      low: 1,
      close: 1,
      volume: 1,
      tradeCount: 1,
      vwap: null,
      startAt: 0,
      endAt: 0,
    };
    agg.resume([old, { ...old, symbol: 'B' }]);
    agg.add(trade('B', T, 2)); // B resumed into 2024-06-28, its trade is from 2024-07-01: seq 0 of the new date
    agg.drain();
    expect(c.ticks.map((x) => [x.symbol, x.sessionDate, x.seq, x.tradeCount])).toEqual([
      ['A', '2024-07-01', 0, 1],
      ['B', '2024-07-01', 0, 1],
    ]);
    expect(agg.stats.resumed).toBe(1);
  });

  it('resume moves a symbol still in an earlier session into the stored one, closing the old candle', () => {
    const { c, agg } = setup({ size: 4 });
    agg.add(trade('A', T - 86_400_000, 1)); // 2024-06-30, still open when the next session starts
    agg.resume([
      {
        kind: '100t',
        symbol: 'A',
        sessionDate: '2024-07-01',
        seq: 2,
        open: 5,
        high: 5,
        low: 5,
        close: 5,
        volume: 1,
        tradeCount: 3,
        vwap: 5,
        startAt: T - 10,
        endAt: T - 5,
      },
    ]);
    agg.add(trade('A', T, 6));
    expect(c.ticks.map((x) => [x.sessionDate, x.seq, x.tradeCount, x.close])).toEqual([
      ['2024-06-30', 0, 1, 1],
      ['2024-07-01', 2, 4, 6],
    ]);
  });

  it('checkpoints a changed unfinished candle after checkpointMs of flushes, and only when it changed', () => {
    const { c, agg } = setup({ size: 100, checkpointMs: 5000 });
    agg.add(trade('X', T, 1));
    agg.flush(T + 250);
    agg.flush(T + 5249);
    expect(c.all).toEqual([]);
    agg.flush(T + 5250);
    expect(c.ticks).toMatchObject([{ seq: 0, tradeCount: 1 }]);
    agg.flush(T + 20_000); // unchanged: nothing
    expect(c.ticks).toHaveLength(1);
    agg.add(trade('X', T + 20_100, 2));
    agg.flush(T + 20_250);
    agg.flush(T + 25_250);
    expect(c.ticks.map((x) => x.tradeCount)).toEqual([1, 2]);
    agg.drain(); // already written as it is: nothing more
    expect(c.ticks).toHaveLength(2);
    expect(agg.stats).toMatchObject({ checkpoints: 2, partialCandles: 0, openSymbols: 1 });
  });

  it('checkpoints by when each symbol was first seen changed, not on a stamp from before a full candle', () => {
    const { c, agg } = setup({ size: 3, checkpointMs: 1000 });
    agg.add(trade('A', T, 1));
    agg.add(trade('B', T, 1));
    agg.flush(T); // both stamped at T
    agg.add(trade('B', T + 1, 2));
    agg.add(trade('B', T + 2, 3)); // B's candle is full: written, clean
    agg.add(trade('B', T + 3, 4)); // changed again, not yet seen by a flush
    agg.flush(T + 500); // B stamped at T + 500
    agg.flush(T + 1000); // A has waited 1000 ms; B's old stamp (T) no longer counts
    expect(c.ticks.map((x) => [x.symbol, x.seq, x.tradeCount])).toEqual([
      ['B', 0, 3],
      ['A', 0, 1],
    ]);
    agg.flush(T + 1499);
    expect(c.ticks).toHaveLength(2);
    agg.flush(T + 1500);
    expect(c.ticks.at(-1)).toMatchObject({ symbol: 'B', seq: 1, tradeCount: 1 });
    expect(agg.stats).toMatchObject({ checkpoints: 2, fullCandles: 1, openSymbols: 2 });
  });

  it('with checkpoints off, flush holds nothing per change (memory follows symbols, not trades)', () => {
    const { c, agg } = setup({ size: 100, checkpointMs: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 10_000; i++) {
      agg.add(trade(`S${i % 7}`, T + i, 1));
      agg.flush(T + i);
    }
    expect(c.ticks).toHaveLength(98); // 7 symbols x 14 full candles of 100
    expect((agg as unknown as { seen: { size: number } }).seen.size).toBe(0);
  });

  it('drain() writes every unfinished candle as it is', () => {
    const { c, agg } = setup({ size: 100 });
    for (let i = 0; i < 7; i++) agg.add(trade('X', T + i, 10 + i, 1));
    agg.add(trade('Y', T, 3, 0));
    agg.drain();
    expect(c.ticks.map((x) => [x.symbol, x.tradeCount, x.open, x.close, x.vwap])).toEqual([
      ['X', 7, 10, 16, 13],
      ['Y', 1, 3, 3, null],
    ]);
  });

  it('computes the ET day with luxon only when a trade leaves the cached day', () => {
    const cache = new EtDayCache();
    for (let i = 0; i < 10_000; i++) cache.dayOf(T + i * 1000);
    expect(cache.misses).toBe(1);
    expect(cache.dayOf(T + 86_400_000).date).toBe('2024-07-02');
    expect(cache.misses).toBe(2);
    expect(() => etDayNamed('2024-02-30')).toThrow(RangeError);
  });

  it('rejects nonsense options', () => {
    expect(() => setup({ size: 0 })).toThrow(RangeError);
    expect(() => setup({ size: 2.5 })).toThrow(RangeError);
    expect(() => setup({ checkpointMs: -1 })).toThrow(RangeError);
  });
});
