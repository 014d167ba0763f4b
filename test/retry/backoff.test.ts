// The one backoff and its table: every retrying loop draws from here.
import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, RETRY_DELAYS } from '../../src/retry/backoff.js';

describe('Backoff (full jitter)', () => {
  it('grows exponentially to the cap, drawing uniformly below it', () => {
    const caps: number[] = [];
    const b = new Backoff({ baseMs: 1000, maxMs: 60_000, jitter: 'full' }, () => 0.999999);
    for (let i = 0; i < 10; i++) caps.push(b.next());
    expect(caps).toEqual([999, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999, 59999]);
  });

  it('first retry is within the base (~1 s), and zero jitter gives zero', () => {
    expect(new Backoff({ baseMs: 1000, maxMs: 60_000, jitter: 'full' }, () => 0.5).next()).toBe(500);
    expect(new Backoff({ baseMs: 1000, maxMs: 60_000, jitter: 'full' }, () => 0).next()).toBe(0);
  });

  it('reset starts over from the base', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 10_000, jitter: 'full' }, () => 0.999999);
    for (let i = 0; i < 5; i++) b.next();
    b.reset();
    expect(b.next()).toBe(99);
  });
});

describe('backoffDelay and RETRY_DELAYS', () => {
  it('without jitter is exactly the capped exponential (session restarts)', () => {
    const p = RETRY_DELAYS['session.restart'];
    expect([0, 1, 2, 5, 6, 10].map((n) => backoffDelay(p, n))).toEqual([
      1000, 2000, 4000, 32_000, 60_000, 60_000,
    ]);
  });

  it('with full jitter draws below the cap (database unreachable at start: 1 s doubling to 30 s)', () => {
    const p = RETRY_DELAYS['store.open'];
    expect(backoffDelay(p, 0, () => 0.5)).toBe(500);
    expect(backoffDelay(p, 40, () => 0.999999)).toBe(29_999);
  });

  it('every retrying loop has a policy with base ≤ max', () => {
    for (const p of Object.values(RETRY_DELAYS)) expect(p.baseMs).toBeLessThanOrEqual(p.maxMs);
  });
});
