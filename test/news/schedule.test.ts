import { describe, expect, it } from 'vitest';
import {
  BACKOFF_CAP_MS,
  DEAD_POLL_MS,
  delayAfterFailure,
  delayAfterSuccess,
  jitter,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
} from '../../src/news/schedule.js';

const MIN = 60_000;
const mid = () => 0.5;

describe('schedule', () => {
  it('jitters the interval by at most ±10 %', () => {
    expect(jitter(300_000, () => 0)).toBe(270_000);
    expect(jitter(300_000, () => 0.999_999)).toBe(330_000);
    expect(delayAfterSuccess(300_000, mid)).toBe(300_000);
  });

  it('backs off exponentially from the interval, capped at 6 h, and polls dead feeds every 6 h', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 50].map(
      (n) => delayAfterFailure(5 * MIN, n, false, null, mid) / MIN,
    );
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 360, 360]);
    expect(BACKOFF_CAP_MS).toBe(360 * MIN);
    expect(delayAfterFailure(5 * MIN, 1, true, null, mid)).toBe(DEAD_POLL_MS);
  });

  it('never polls before Retry-After, however small the backoff', () => {
    expect(delayAfterFailure(5 * MIN, 1, false, 2 * 3_600_000, () => 0.999)).toBe(2 * 3_600_000);
    expect(delayAfterFailure(5 * MIN, 1, false, 10_000, mid)).toBe(5 * MIN);
  });

  it('reads Retry-After as seconds or an HTTP date, capped at a day', () => {
    const now = Date.UTC(2025, 0, 6, 15, 0, 0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(new Date(now + 90 * MIN).toUTCString(), now)).toBe(90 * MIN);
    expect(parseRetryAfter(new Date(now - MIN).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('9999999', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
