import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { lateness, startEventLoopMonitor } from '../../src/ops/eventLoop.js';

describe('event-loop monitor', () => {
  it('reads the delay as how late the timer ran: the recorded interval less the resolution', () => {
    // The histogram records the whole interval: an idle loop at a 20 ms resolution reads about 20.2 ms.
    expect(lateness(20_200_000, 20)).toBe(0.2);
    expect(lateness(145_000_000, 20)).toBe(125);
    // A timer that ran early (the clock's granularity) is not a negative delay.
    expect(lateness(19_900_000, 20)).toBe(0);
  });

  it('reports a block as delay, then forgets it after the window rotates', async () => {
    const mon = startEventLoopMonitor({ resolutionMs: 10, windowMs: 60_000 });
    try {
      expect(mon.stats()).toEqual({ delayP99Ms: 0, maxDelayMs: 0, samples: 0 });
      // The histogram's first tick only sets its reference point: wait until it has recorded a sample.
      while (mon.stats().samples === 0) await nextTurn();
      const until = performance.now() + 120;
      while (performance.now() < until) {
        /* busy: the blocked loop being measured */
      }
      // Wait for the monitor's next tick to record the delay (bounded: it fires within ~resolution).
      for (let i = 0; i < 10_000 && mon.stats().maxDelayMs < 100; i++) await nextTurn();
      const blocked = mon.stats();
      expect(blocked.maxDelayMs).toBeGreaterThanOrEqual(100);
      expect(blocked.delayP99Ms).toBeGreaterThanOrEqual(100);

      mon.rotate(); // window ends: stats now describe the completed window…
      expect(mon.stats().maxDelayMs).toBeGreaterThanOrEqual(100);
      mon.rotate(); // …and the next one, which saw no block.
      expect(mon.stats().maxDelayMs).toBeLessThan(100);
    } finally {
      mon.stop();
    }
  });
});
