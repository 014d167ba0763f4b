// The storage under SecondAggregator: per-symbol rings of Float64Array slots (in a shared arena), the log of
// written candles
// and the wake-up heap. The property tests cover them through the aggregator; these pin down the edges
// (wrap-around, growth, a candle amended after many newer ones, stale wake-ups).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecondAggregator } from '../../src/aggregate/secondAggregator.js';
import { FIELDS, REGION_SLOTS, SymbolBuckets } from '../../src/aggregate/symbolBuckets.js';
import { WakeQueue } from '../../src/aggregate/wakeQueue.js';
import { WrittenCandles } from '../../src/aggregate/writtenCandles.js';
import { Collector, trade } from './trades.js';

const T = Date.UTC(2024, 6, 1, 14, 30, 5);

/** A symbol's ring in the middle of an arena whose other regions hold a sentinel it must never touch. */
function inArena(): { s: SymbolBuckets; arena: Float64Array } {
  const region = REGION_SLOTS * FIELDS;
  const arena = new Float64Array(3 * region).fill(-7);
  arena.fill(0, region, 2 * region);
  return { s: new SymbolBuckets('X', arena, region), arena };
}

function untouched(arena: Float64Array): void {
  const region = REGION_SLOTS * FIELDS;
  expect([...arena.subarray(0, region), ...arena.subarray(2 * region)].every((x) => x === -7)).toBe(true);
}

describe('SymbolBuckets', () => {
  it('keeps dirty buckets sorted by start across wrap-around, inserts in the middle and growth', () => {
    const { s, arena } = inArena();
    const starts: number[] = [];
    const check = () => {
      const got = Array.from({ length: s.size }, (_, i) => s.start(s.slot(i)));
      expect(got).toEqual(starts);
      untouched(arena);
    };
    // Wrap its 4-slot region several times: add one at the end, take one from the front.
    for (let k = 0; k < 10; k++) {
      const start = T + k * 1000;
      s.insert(s.indexAtOrBefore(start) + 1, start, trade('X', start, k));
      starts.push(start);
      if (starts.length > 2) {
        s.shiftOldest();
        starts.shift();
      }
      check();
    }
    // Now out of order, into the middle, past the region (it moves to its own array while wrapped).
    for (const k of [20, 15, 17, 12, 19, 14, 18, 11, 16, 13]) {
      const start = T + k * 1000;
      s.insert(s.indexAtOrBefore(start) + 1, start, trade('X', start, k));
      starts.push(start);
      starts.sort((a, b) => a - b);
      check();
    }
    expect(s.size).toBe(12);
  });
});

describe('WrittenCandles', () => {
  it('finds a written candle by start along the symbol chain, among many newer ones and other symbols', () => {
    const { s } = inArena();
    const other = inArena().s;
    const log = new WrittenCandles();
    const pos: number[] = [];
    for (let k = 0; k < 100; k++) {
      for (const sym of [s, other]) {
        const start = T + k * 1000;
        const at = sym.insert(sym.size, start, trade('X', start, k));
        expect(at).toBeGreaterThanOrEqual(0);
        sym.lastWritten = log.append(sym.slots, sym.shiftOldest(), sym.lastWritten, 0);
        if (sym === s) pos.push(sym.lastWritten);
      }
    }
    expect(log.find(s.lastWritten, T + 3000)).toBe(pos[3]);
    expect(log.find(s.lastWritten, T + 99_000)).toBe(pos[99]);
    expect(log.find(s.lastWritten, T + 3500)).toBe(-1);
    expect(log.find(-1, T + 3000)).toBe(-1);
    // Moved back to be amended: not found until written again (at a new position).
    log.kill(pos[40]!);
    expect(log.find(s.lastWritten, T + 40_000)).toBe(-1);
    // The log lets go of the first 50 seconds of both symbols (out of a 10 s window at T + 60 s): 100, one dead.
    expect(log.prune(T + 60_000 + 1, 1000, 10_000)).toBe(99);
    expect(log.find(s.lastWritten, T + 3000)).toBe(-1);
    expect(log.find(s.lastWritten, T + 50_000)).toBe(pos[50]);
  });

  it('keeps positions valid while it grows wrapped, and skips dead entries when it lets go', () => {
    const { s } = inArena();
    const log = new WrittenCandles();
    const at = s.insert(0, T, trade('X', T, 1));
    const pos: number[] = [];
    // 1,000 in, all let go (head moves), then 3,000 more: the 1,024-slot log grows while wrapped.
    for (let k = 0; k < 1000; k++) pos.push(log.append(s.slots, at, -1, 0));
    expect(log.prune(Number.POSITIVE_INFINITY, 1000, 0)).toBe(1000);
    for (let k = 0; k < 3000; k++) pos.push(log.append(s.slots, at, k === 0 ? -1 : pos.at(-1)!, 0));
    for (const p of pos.slice(1000)) expect(log.live(p)).toBe(true);
    for (const p of pos.slice(0, 1000)) expect(log.live(p)).toBe(false);
    // The chain from the newest reaches the oldest held entry (all start at T: the newest live one is found).
    expect(log.find(pos.at(-1)!, T)).toBe(pos.at(-1));
    log.kill(pos.at(-1)!);
    expect(log.find(pos.at(-1)!, T)).toBe(pos.at(-2));
    log.kill(pos[2000]!);
    expect(log.live(pos[2000]!)).toBe(false);
    // Dead entries are let go without being counted.
    expect(log.prune(Number.POSITIVE_INFINITY, 1000, 0)).toBe(2998);
  });
});

describe('WakeQueue', () => {
  it('pops in time order whatever the push order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 200 }), (times) => {
        const q = new WakeQueue<number>();
        for (let i = 0; i < times.length; i++) q.push(times[i]!, i);
        const got: number[] = [];
        while (q.size > 0) {
          const t = q.peekTime();
          got.push(t);
          const i = q.pop()!;
          expect(times[i]).toBe(t);
        }
        expect(got).toEqual([...times].sort((a, b) => a - b));
        expect(q.peekTime()).toBe(Number.POSITIVE_INFINITY);
        expect(q.pop()).toBeUndefined();
      }),
    );
  });
});

describe('SecondAggregator storage through the public API', () => {
  it('amends a candle written 55 s earlier, after 50 newer candles of the same and other symbols', () => {
    const c = new Collector();
    const agg = new SecondAggregator({}, c.out);
    for (let k = 0; k < 56; k++) {
      for (const sym of ['X', 'Y', 'Z'])
        agg.add(trade(sym, T + k * 1000 + 10, 100 + k, 1, { receivedAt: T + k * 1000 + 20 }));
      agg.flush(T + k * 1000 + 500);
    }
    const before = c.seconds.filter((x) => x.symbol === 'X' && x.bucket === T);
    expect(before).toHaveLength(1);
    agg.add(trade('X', T + 5, 50, 3, { receivedAt: T + 56_000 }));
    agg.flush(T + 56_100);
    const after = c.seconds.filter((x) => x.symbol === 'X' && x.bucket === T);
    expect(after).toHaveLength(2);
    expect(after[1]).toEqual({
      ...before[0],
      open: 50,
      low: 50,
      volume: 4,
      tradeCount: 2,
      vwap: (100 + 150) / 4,
      firstTradeAt: T + 5,
    });
    // Amended again, then once more after it was re-written: each time the full candle.
    agg.add(trade('X', T + 999, 200, 1, { receivedAt: T + 56_200 }));
    agg.flush(T + 56_300);
    agg.add(trade('X', T + 999, 1, 1, { receivedAt: T + 56_400 }));
    agg.flush(T + 56_500);
    expect(c.seconds.filter((x) => x.symbol === 'X' && x.bucket === T).at(-1)).toMatchObject({
      open: 50,
      close: 1,
      high: 200,
      low: 1,
      tradeCount: 4,
      lastTradeAt: T + 999,
    });
    // The last two seconds of all three symbols are still inside their grace.
    expect(agg.stats).toMatchObject({ amendments: 3, lateMerged: 3, lateDropped: 0, openCandles: 6 });
    // 61 s after its end by the feed's clock (which runs 10 ms behind ours) it is out of the window: dropped,
    // and no longer held.
    agg.add(trade('X', T + 1, 1, 1, { receivedAt: T + 1000 + 60_011 }));
    expect(agg.stats.lateDropped).toBe(1);
    agg.flush(T + 200_000);
    expect(agg.stats.retainedCandles).toBe(0);
  });

  it('a symbol with thousands of seconds open at once (growth far past the initial ring)', () => {
    const c = new Collector();
    const agg = new SecondAggregator({ intervalMs: 1, graceMs: 5000, latenessMs: 10_000 }, c.out);
    // Received 5 s after the newest trade time: the feed's clock runs 1 ms behind the collector's.
    for (let k = 4999; k >= 0; k--) agg.add(trade('X', T + k, k, 1, { receivedAt: T + 5000 }));
    expect(agg.stats.openCandles).toBe(5000);
    agg.flush(T + 5001 + 2500);
    expect(c.seconds.map((x) => x.bucket)).toEqual(Array.from({ length: 2500 }, (_, k) => T + k));
    agg.drain();
    expect(c.seconds.map((x) => x.open)).toEqual(Array.from({ length: 5000 }, (_, k) => k));
  });
});
