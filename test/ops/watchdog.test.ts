import { describe, expect, it } from 'vitest';
import { startWatchdog, type WatchdogOptions } from '../../src/ops/watchdog.js';

function setup(over: Partial<WatchdogOptions> = {}) {
  let t = 1_000_000;
  let progress = 0;
  let collecting = true;
  const fatal: string[] = [];
  const wd = startWatchdog({
    now: () => t,
    stallMs: 10_000,
    blockMs: 3_000,
    checkEveryMs: 1_000,
    progress: () => progress,
    collecting: () => collecting,
    onFatal: (r) => fatal.push(r),
    ...over,
  });
  /** What the check timer does each tick when it fires on time (plus `lateMs`). */
  const tick = (lateMs = 0) => {
    t += 1_000 + lateMs;
    return wd.check();
  };
  return {
    wd,
    fatal,
    tick,
    grow: () => {
      progress++;
    },
    setCollecting: (c: boolean) => {
      collecting = c;
    },
  };
}

describe('watchdog', () => {
  it('stays quiet while progress moves', () => {
    const { wd, fatal, tick, grow } = setup();
    for (let i = 0; i < 60; i++) {
      grow();
      expect(tick()).toBeNull();
    }
    expect(fatal).toEqual([]);
    wd.stop();
  });

  it('fires once when progress stalls for stallMs while collecting', () => {
    const { wd, fatal, tick } = setup();
    const results = Array.from({ length: 15 }, () => tick());
    // Tick 1 starts the stall clock; ticks 2..10 are under 10 s; tick 11 is exactly 10 s.
    expect(results.slice(0, 10)).toEqual(Array(10).fill(null));
    expect(results[10]).toMatch(/^no progress for 10000 ms while collecting \(limit 10000 ms\)$/);
    expect(fatal).toHaveLength(1);
    expect(wd.stats().fired).toBe(fatal[0]);
  });

  it('never fires on a stall while not collecting, and restarts the clock when collecting begins', () => {
    const { fatal, tick, setCollecting } = setup();
    setCollecting(false);
    for (let i = 0; i < 100; i++) expect(tick()).toBeNull();
    setCollecting(true);
    for (let i = 0; i < 10; i++) expect(tick()).toBeNull();
    expect(tick()).toMatch(/no progress/);
    expect(fatal).toHaveLength(1);
  });

  it('fires when its own timer fires blockMs late (a blocked event loop)', () => {
    const { fatal, tick, grow, wd } = setup();
    grow();
    expect(tick(2_999)).toBeNull();
    expect(wd.stats().maxTimerDriftMs).toBe(2_999);
    grow();
    expect(tick(3_500)).toBe('event loop blocked for 3500 ms (limit 3000 ms)');
    expect(fatal).toEqual(['event loop blocked for 3500 ms (limit 3000 ms)']);
    // Latched: later checks report the same reason and do not call onFatal again.
    expect(tick(10_000)).toBe(fatal[0]);
    expect(fatal).toHaveLength(1);
  });

  it('detects a real blocked loop with the real timer and clock', async () => {
    const reason = await new Promise<string>((resolve) => {
      const wd = startWatchdog({
        stallMs: 60_000,
        blockMs: 100,
        checkEveryMs: 10,
        progress: () => 0,
        collecting: () => false,
        onFatal: resolve,
      });
      // Block the loop for 150 ms right after the first tick is scheduled; the tick then runs ≥ 140 ms late.
      const until = performance.now() + 150;
      while (performance.now() < until) {
        /* busy: this is the blocked loop under test */
      }
      void wd;
    });
    expect(reason).toMatch(/^event loop blocked for \d+ ms \(limit 100 ms\)$/);
  });
});
