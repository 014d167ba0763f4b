import { describe, expect, it } from 'vitest';
import { RateLimitedLog } from '../../src/log/rateLimit.js';
import { captureLog } from '../helpers/logCapture.js';

const T0 = Date.UTC(2024, 6, 3, 14, 0, 0);

function setup(opts: { windowMs?: number; maxKeys?: number } = {}) {
  const { log, lines: logged } = captureLog('debug');
  let t = T0;
  const rl = new RateLimitedLog(log, { now: () => t, ...opts });
  return {
    rl,
    logged,
    at: (ms: number) => {
      t = T0 + ms;
    },
  };
}

describe('RateLimitedLog under a disconnect storm', () => {
  it('writes under 20 lines for 100,000 disconnects in one second, and the summary counts them', () => {
    const { rl, logged, at } = setup();
    for (let i = 0; i < 100_000; i++) {
      at(Math.floor(i / 100)); // spread over 0..999 ms
      rl.event('feed.disconnect', 'warn', { code: 1006, attempt: i }, 'feed disconnected');
    }
    at(10_000);
    rl.flush();
    const lines = logged;
    expect(lines.length).toBeLessThan(20);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      msg: 'feed disconnected',
      event: 'feed.disconnect',
      code: 1006,
      attempt: 0,
    });
    expect(lines[0]?.level).toBe('warn');
    expect(lines[1]).toMatchObject({
      msg: 'feed disconnected (… 99999 more in the last 10 s)',
      suppressed: 99_999,
      level: 'warn',
    });
  });

  it('keeps several storms apart, one full line and one summary per key', () => {
    const { rl, logged, at } = setup();
    const keys = ['feed.disconnect', 'feed.invalid.bad_price', 'sink.retry'] as const;
    const counts = { 'feed.disconnect': 50_000, 'feed.invalid.bad_price': 30_000, 'sink.retry': 7 };
    for (let i = 0; i < 50_000; i++) {
      at(Math.floor(i / 50));
      for (const k of keys) if (i < counts[k]) rl.event(k, 'warn', {}, `storm ${k}`);
    }
    rl.stop(); // shutdown: summarise everything at once
    const lines = logged;
    expect(lines.length).toBeLessThan(20);
    for (const k of keys) {
      const mine = lines.filter((l) => l.event === k);
      expect(mine).toHaveLength(2);
      expect(mine[1]?.suppressed).toBe(counts[k] - 1);
      expect(mine[1]?.msg).toBe(`storm ${k} (… ${counts[k] - 1} more in the last 1 s)`);
    }
  });

  it('rolls the window over: a storm that goes on logs twice per window', () => {
    const { rl, logged, at } = setup({ windowMs: 10_000 });
    // 30 s of 1,000 events per second.
    for (let ms = 0; ms < 30_000; ms++) {
      at(ms);
      rl.event('feed.disconnect', 'warn', {}, 'feed disconnected');
    }
    const lines = logged;
    // Windows [0,10), [10,20) are closed by the next event; [20,30) is still open.
    expect(lines.map((l) => l.suppressed ?? 'full')).toEqual(['full', 9_999, 'full', 9_999, 'full']);
    at(40_000);
    rl.flush();
    expect(logged.at(-1)).toMatchObject({
      suppressed: 9_999,
      msg: 'feed disconnected (… 9999 more in the last 10 s)',
    });
  });

  it('reports the window length, not the hours until the next occurrence', () => {
    const { rl, logged, at } = setup();
    rl.event('k', 'info', {}, 'm');
    at(3_000);
    rl.event('k', 'info', {}, 'm');
    at(3 * 3_600_000);
    expect(rl.event('k', 'info', {}, 'm')).toBe(true);
    expect(logged.map((l) => l.msg)).toEqual(['m', 'm (… 1 more in the last 10 s)', 'm']);
  });

  it('writes nothing extra for an event that did not repeat', () => {
    const { rl, logged, at } = setup();
    expect(rl.event('once', 'error', { detail: 1 }, 'only once')).toBe(true);
    at(60_000);
    rl.flush();
    rl.stop();
    expect(logged).toHaveLength(1);
  });

  it('holds a window open when the clock steps backwards', () => {
    const { rl, logged, at } = setup();
    at(5_000);
    rl.event('k', 'warn', {}, 'm');
    at(1_000);
    expect(rl.event('k', 'warn', {}, 'm')).toBe(false);
    expect(logged).toHaveLength(1);
  });

  it('beyond maxKeys summarises only the oldest window, never a burst', () => {
    const { rl, logged } = setup({ maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) {
      rl.event(k, 'warn', {}, k);
      rl.event(k, 'warn', {}, k);
    }
    const before = logged.length;
    rl.event('d', 'warn', {}, 'd');
    const added = logged.slice(before);
    expect(added.map((l) => l.msg)).toEqual(['a (… 1 more in the last 1 s)', 'd']);
    // b and c are still rate-limited.
    expect(rl.event('b', 'warn', {}, 'b')).toBe(false);
  });

  it('stop() clears the timer and summarises what is left', () => {
    const { rl, logged } = setup();
    rl.startTimer(5);
    rl.event('k', 'info', {}, 'm');
    rl.event('k', 'info', {}, 'm');
    rl.stop();
    expect(logged.map((l) => l.msg)).toEqual(['m', 'm (… 1 more in the last 1 s)']);
  });
});
