import { describe, expect, it } from 'vitest';
import {
  createFeedStats,
  feedStatsSnapshot,
  lagBuckets,
  lagQuantile,
  recordLag,
} from '../../src/feed/stats.js';

describe('lag histogram', () => {
  it('exports cumulative Prometheus buckets (seconds) and the sum', () => {
    const s = createFeedStats();
    for (const ms of [0, 2, 3, 10, 500, 5000]) recordLag(s.lag, ms);
    const b = lagBuckets(s.lag);
    expect(b.le.slice(0, 5)).toEqual([0, 0.003, 0.015, 0.063, 0.255]);
    expect(b.cumulative.slice(0, 6)).toEqual([1, 3, 4, 4, 4, 5]);
    expect(b.cumulative.at(-1)).toBe(6);
    expect(s.lag.sumMs).toBe(5515);
  });

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
