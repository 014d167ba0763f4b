import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/feed/backoff.js';
import { createFeedStats, feedStatsSnapshot, lagQuantile, recordLag } from '../../src/feed/stats.js';

describe('Backoff (full jitter)', () => {
  it('grows exponentially to the cap, drawing uniformly below it', () => {
    const caps: number[] = [];
    const b = new Backoff(1000, 60_000, () => 0.999999);
    for (let i = 0; i < 10; i++) caps.push(b.next());
    expect(caps).toEqual([999, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999, 59999]);
  });

  it('first retry is within the base (~1 s), and zero jitter gives zero', () => {
    expect(new Backoff(1000, 60_000, () => 0.5).next()).toBe(500);
    expect(new Backoff(1000, 60_000, () => 0).next()).toBe(0);
  });

  it('reset starts over from the base', () => {
    const b = new Backoff(100, 10_000, () => 0.999999);
    for (let i = 0; i < 5; i++) b.next();
    b.reset();
    expect(b.next()).toBe(99);
  });
});

describe('lag histogram', () => {
  it('reports p50/p99 within a bucket (~19 %) of the true value', () => {
    const s = createFeedStats();
    for (let i = 0; i < 1000; i++) recordLag(s.lag, i < 990 ? 40 : 2000);
    const p50 = lagQuantile(s.lag, 0.5)!;
    const p99 = lagQuantile(s.lag, 0.99)!;
    expect(p50).toBeGreaterThanOrEqual(40);
    expect(p50).toBeLessThanOrEqual(48);
    expect(p99).toBeGreaterThanOrEqual(40);
    expect(lagQuantile(s.lag, 0.999)!).toBeGreaterThanOrEqual(2000);
    expect(lagQuantile(s.lag, 0.999)!).toBeLessThanOrEqual(2400);
  });

  it('counts clock skew (negative lag) in the first bucket, and is empty-safe', () => {
    const s = createFeedStats();
    expect(lagQuantile(s.lag, 0.5)).toBeNull();
    recordLag(s.lag, -30);
    recordLag(s.lag, 0);
    expect(s.lag.negative).toBe(1);
    expect(lagQuantile(s.lag, 0.99)).toBe(0);
    expect(feedStatsSnapshot(s)).toMatchObject({ lagP50Ms: 0, lagCount: 2 });
  });

  it('puts absurd lags in the overflow bucket', () => {
    const s = createFeedStats();
    recordLag(s.lag, 1e12);
    expect(lagQuantile(s.lag, 0.5)).toBe(Number.POSITIVE_INFINITY);
  });
});
