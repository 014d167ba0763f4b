// Event time (docs/ARCHITECTURE.md "Event time"): candles close and amend by the feed's clock, so a feed
// 10 minutes behind or 30 s ahead gives exact candles while running, and one absurd timestamp is quarantined.
import { describe, expect, it } from 'vitest';
import { Aggregators } from '../../src/aggregate/aggregator.js';
import { FeedClock } from '../../src/aggregate/feedClock.js';
import { SecondAggregator } from '../../src/aggregate/secondAggregator.js';
import { TickAggregator } from '../../src/aggregate/tickAggregator.js';
import type { Candle } from '../../src/aggregate/types.js';
import { trade } from './trades.js';

const T = Date.UTC(2026, 2, 3, 15, 0, 0); // 10:00 ET

/** A live pipeline: a trade every 100 ms of collector time, stamped `skew` off it; flush every 250 ms. */
function run(skew: number, seconds: number, extra?: (now: number) => ReturnType<typeof trade> | null) {
  const out: Candle[] = [];
  const aggs = new Aggregators({
    second: new SecondAggregator({}, (c) => out.push(c)),
    tick: new TickAggregator({ size: 10 }, (c) => out.push(c)),
  });
  let sent = 0;
  for (let now = T; now < T + seconds * 1000; now += 50) {
    if (now % 100 === 0) {
      aggs.add(trade('AAPL', now + skew, 100 + (sent % 7), 1, { receivedAt: now }));
      sent++;
      const x = extra?.(now);
      if (x) aggs.add(x);
    }
    if (now % 250 === 0) aggs.flush(now);
  }
  const whileRunning = out.filter((c) => c.kind === '1s').length;
  aggs.drain();
  return { out, sent, whileRunning, aggs };
}

describe('event time', () => {
  it.each([
    ['10 minutes behind', -600_000],
    ['30 s ahead', 30_000],
    ['on time', 0],
  ])('a feed %s: 1-second candles are written while running, each with its 10 trades', (_n, skew) => {
    const { out, sent, whileRunning, aggs } = run(skew, 20);
    expect(sent).toBe(200);
    // 20 s of trades, each second due 2 s after its end by the feed's clock: 17 written before the drain.
    expect(whileRunning).toBeGreaterThanOrEqual(17);
    const secs = out.filter((c) => c.kind === '1s');
    expect(secs).toHaveLength(20);
    expect(secs.every((c) => c.tradeCount === 10)).toBe(true);
    expect(out.filter((c) => c.kind === '100t').reduce((a, c) => a + c.tradeCount, 0)).toBe(200);
    expect(aggs.parts.second.stats.lateDropped).toBe(0);
    expect(aggs.clock!.stats.quarantined).toBe(0);
  });

  it('one trade stamped 23 h ahead is quarantined: it moves neither the clock nor the 100-tick date', () => {
    const bad = trade('AAPL', T + 23 * 3_600_000, 999, 1, { receivedAt: T + 5_000 });
    const { out, aggs } = run(0, 20, (now) => (now === T + 5_000 ? { ...bad, receivedAt: now } : null));
    expect(aggs.clock!.stats.quarantined).toBe(1);
    const ticks = out.filter((c) => c.kind === '100t');
    expect(new Set(ticks.map((c) => c.sessionDate))).toEqual(new Set(['2026-03-03']));
    expect(ticks.reduce((a, c) => a + c.tradeCount, 0)).toBe(200);
    expect(out.some((c) => c.high === 999)).toBe(false);
    expect(out.filter((c) => c.kind === '1s').every((c) => c.tradeCount === 10)).toBe(true);
  });

  it('the first trade of a symbol far from the collector clock is quarantined, the rest go on', () => {
    const clock = new FeedClock();
    expect(clock.admit(0, T + 23 * 3_600_000, T)).toBe(false);
    expect(clock.admit(0, T - 2 * 3_600_000, T)).toBe(false);
    expect(clock.admit(0, T - 600_000, T)).toBe(true);
    expect(clock.eventNow(0, T + 1000)).toBe(T - 599_000);
    // Within 5 min ahead moves the clock forward; never backwards.
    expect(clock.admit(0, T - 300_000, T + 1000)).toBe(true);
    expect(clock.eventNow(0, T + 1000)).toBe(T - 300_000);
    expect(clock.admit(0, T - 400_000, T + 1000)).toBe(true);
    expect(clock.eventNow(0, T + 1000)).toBe(T - 300_000);
    // More than 5 min ahead of the symbol's clock AND of ours: quarantined (a broken timestamp).
    expect(clock.admit(0, T + 360_000, T + 1000)).toBe(false);
    // More than 5 min ahead of the symbol's clock but on time by ours (its first trade was a late report):
    // the clock moves to it.
    expect(clock.admit(0, T + 2_000, T + 2_000)).toBe(true);
    expect(clock.eventNow(0, T + 3_000)).toBe(T + 3_000);
    expect(clock.stats.quarantined).toBe(3);
  });

  it('re-anchors after a sustained, consistent shift (a feed that really changed its clock)', () => {
    const clock = new FeedClock({ reanchorAfter: 5 });
    expect(clock.admit(0, T, T)).toBe(true);
    // From now on the feed stamps 10 min ahead of our clock (say the host's clock was set back).
    const got = [1, 2, 3, 4, 5, 6].map((k) => clock.admit(0, T + 600_000 + k, T + k));
    expect(got).toEqual([false, false, false, false, true, true]);
    expect(clock.stats).toEqual({ quarantined: 4, reanchored: 1 });
  });

  it('a quiet symbol still closes its candle on the collector clock, in a delayed feed', () => {
    const out: Candle[] = [];
    const agg = new SecondAggregator({}, (c) => out.push(c));
    agg.add(trade('Q', T - 600_000 + 300, 5, 1, { receivedAt: T }));
    agg.flush(T + 2_600);
    expect(out).toEqual([]);
    agg.flush(T + 2_700); // its second ended 700 ms after receipt (feed time); 2 s grace later it is due
    expect(out).toMatchObject([{ symbol: 'Q', bucket: T - 600_000, tradeCount: 1 }]);
  });

  it('amends by the feed clock: a trade 50 s late (feed time) in a feed 10 min behind amends', () => {
    const out: Candle[] = [];
    const agg = new SecondAggregator({}, (c) => out.push(c));
    const base = T - 600_000;
    for (let k = 0; k < 60; k++) {
      agg.add(trade('A', base + k * 1000 + 10, 10 + k, 1, { receivedAt: T + k * 1000 + 10 }));
      agg.flush(T + k * 1000 + 500);
    }
    agg.add(trade('A', base + 5, 1, 1, { receivedAt: T + 51_000 }));
    agg.flush(T + 51_100);
    expect(out.filter((c) => c.kind === '1s' && c.bucket === base).at(-1)).toMatchObject({
      tradeCount: 2,
      low: 1,
    });
    expect(agg.stats.lateDropped).toBe(0);
  });
});
