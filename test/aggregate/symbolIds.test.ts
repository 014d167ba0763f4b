import { describe, expect, it } from 'vitest';
import { Aggregators, type CandleAggregator } from '../../src/aggregate/aggregator.js';
import { SecondAggregator } from '../../src/aggregate/secondAggregator.js';
import { SymbolIds } from '../../src/aggregate/symbolIds.js';
import { TickAggregator } from '../../src/aggregate/tickAggregator.js';
import type { Trade } from '../../src/aggregate/types.js';
import { seededRandom } from '../../src/feed/sim/market.js';
import { Collector, trade } from './trades.js';

const T = Date.UTC(2024, 6, 1, 14, 30, 0);

/** Trades over `symbols` symbols: ts a little behind receivedAt, some out of order, across a session change. */
function tape(symbols: number, n: number, seed: number): Trade[] {
  const rand = seededRandom(seed);
  const out: Trade[] = [];
  for (let i = 0; i < n; i++) {
    const clock = T + i * 3 + (i > n / 2 ? 86_400_000 : 0);
    const lag = rand() < 0.05 ? Math.floor(rand() * 4000) : Math.floor(rand() * 300);
    const sym = `S${Math.floor(rand() * symbols)}`;
    out.push(
      trade(sym, clock - lag, 10 + Math.round(rand() * 1000) / 100, 1 + Math.floor(rand() * 9), {
        receivedAt: clock,
      }),
    );
  }
  return out;
}

function parts(c: Collector) {
  return {
    second: new SecondAggregator({ intervalMs: 1000, graceMs: 2000, latenessMs: 3000 }, c.out),
    tick: new TickAggregator({ size: 7, checkpointMs: 500 }, c.out),
  };
}

/** Runs the tape through `a`, flushing every 50 trades, then drains. */
function run(a: CandleAggregator, trades: readonly Trade[]): void {
  for (let i = 0; i < trades.length; i++) {
    a.add(trades[i]!);
    if (i % 50 === 49) a.flush(trades[i]!.receivedAt);
  }
  a.drain();
}

describe('SymbolIds', () => {
  it('assigns 0, 1, 2 … in order of first sight and keeps them', () => {
    const ids = new SymbolIds();
    expect(ids.peek('A')).toBe(-1);
    expect([ids.idOf('B'), ids.idOf('A'), ids.idOf('B'), ids.idOf('C'), ids.idOf('A')]).toEqual([
      0, 1, 0, 2, 1,
    ]);
    expect(ids.names).toEqual(['B', 'A', 'C']);
    expect(ids.size).toBe(3);
    expect(ids.peek('C')).toBe(2);
  });

  it('keeps ids stable over many symbols', () => {
    const ids = new SymbolIds();
    for (let i = 0; i < 20_000; i++) expect(ids.idOf(`S${i}`)).toBe(i);
    for (let i = 19_999; i >= 0; i--) expect(ids.idOf(`S${i}`)).toBe(i);
    expect(ids.size).toBe(20_000);
  });
});

describe('Aggregators with a shared id table', () => {
  it('shares one table among its parts', () => {
    const c = new Collector();
    const p = parts(c);
    const aggs = new Aggregators(p);
    expect(aggs.ids).not.toBeNull();
    aggs.add(trade('X', T, 1));
    aggs.add(trade('Y', T, 1));
    expect(aggs.ids?.names).toEqual(['X', 'Y']);
    expect(aggs.stats.second.symbols).toBe(2);
    expect(aggs.stats.tick.symbols).toBe(2);
  });

  it('emits exactly what standalone add() on each part emits, over thousands of symbols', () => {
    const trades = tape(3000, 40_000, 7);
    const shared = new Collector();
    run(new Aggregators(parts(shared)), trades);
    const alone = new Collector();
    const p = parts(alone);
    // Standalone: each part with its own table; interleave per trade as Aggregators does.
    run(
      {
        add: (t) => {
          p.second.add(t);
          p.tick.add(t);
        },
        flush: (now) => {
          const more = p.second.flush(now);
          p.tick.flush(now);
          return more;
        },
        drain: () => {
          p.second.drain();
          p.tick.drain();
        },
        stats: {},
      },
      trades,
    );
    expect(shared.seconds.length).toBeGreaterThan(1000);
    expect(shared.ticks.length).toBeGreaterThan(1000);
    expect(shared.all).toEqual(alone.all);
  });

  it('handles ids a part has not seen (resume() names a symbol before any trade)', () => {
    const shared = new Collector();
    const sp = parts(shared);
    const aggs = new Aggregators(sp);
    const alone = new Collector();
    const ap = parts(alone);
    const stored = {
      kind: '100t' as const,
      symbol: 'R',
      sessionDate: '2024-07-01',
      seq: 3,
      open: 5,
      high: 6,
      low: 4,
      close: 5.5,
      volume: 10,
      tradeCount: 2,
      vwap: 5.2,
      startAt: T - 5000,
      endAt: T - 4000,
    };
    sp.tick.resume([stored]);
    ap.tick.resume([stored]);
    const trades = [
      trade('Q', T, 1),
      trade('R', T + 10, 2),
      trade('Q', T + 1500, 3),
      trade('R', T + 1600, 4),
    ];
    for (const t of trades) {
      aggs.add(t);
      ap.second.add(t);
      ap.tick.add(t);
    }
    aggs.drain();
    ap.second.drain();
    ap.tick.drain();
    expect(aggs.ids?.names).toEqual(['R', 'Q']);
    expect(shared.all).toEqual(alone.all);
    expect(shared.ticks.find((c) => c.symbol === 'R')).toMatchObject({ seq: 3, tradeCount: 4 });
  });

  it('refuses to share a table once a part has seen a symbol', () => {
    const p = parts(new Collector());
    p.second.add(trade('X', T, 1));
    expect(() => new Aggregators(p)).toThrow(/before the first symbol/);
  });

  it('falls back to add() when a part does not take ids', () => {
    const c = new Collector();
    const seen: string[] = [];
    const plain: CandleAggregator = {
      add: (t) => void seen.push(t.symbol),
      flush: () => false,
      drain: () => {},
      stats: {},
    };
    const aggs = new Aggregators({ second: parts(c).second, plain });
    expect(aggs.ids).toBeNull();
    aggs.add(trade('X', T, 1));
    aggs.drain();
    expect(seen).toEqual(['X']);
    expect(c.seconds).toHaveLength(1);
  });
});
