// The automatic backfill's timing on the fake clock: it probes while the tape is not loaded (404), fills
// once it answers, and never runs a pass while collecting.
import { describe, expect, it } from 'vitest';
import { zeroCounts } from '../../src/backfill/completeness.js';
import { createOvernightStats, runOvernight } from '../../src/backfill/overnight.js';
import type { BackfillResult, GapOutcome } from '../../src/backfill/runner.js';
import { nullLogger } from '../../src/log/logger.js';
import { FakeClock } from '../helpers/fakeClock.js';

const gap = {
  id: 1,
  symbol: 'AAPL',
  symbols: ['AAPL'],
  startedAt: 0,
  endedAt: 1,
  reason: 'x',
  filledAt: null,
  filledTrades: null,
  fillError: null,
  mode: 'calendar' as const,
};
const outcome = (state: GapOutcome['state']): BackfillResult => ({
  outcomes: [{ gap, state, trades: 0, error: null, counts: zeroCounts() }],
  denied: null,
  busy: null,
  counts: zeroCounts(),
  requests: 0,
});

describe('overnight backfill', () => {
  it('waits while not loaded, fills once the API answers, and never runs while collecting', async () => {
    const clock = new FakeClock(Date.UTC(2026, 2, 3, 2, 0));
    const ctl = new AbortController();
    let collecting = false;
    let loaded = false;
    let filled = false;
    const passes: { at: number; collecting: boolean }[] = [];
    const stats = createOvernightStats();
    const loop = runOvernight(
      {
        clock,
        log: nullLogger(),
        signal: ctl.signal,
        collecting: () => collecting,
        probeMs: 30 * 60_000,
        idleMs: 15 * 60_000,
        busyMs: 60_000,
        pass: async () => {
          passes.push({ at: clock.now(), collecting });
          if (filled) return { ...outcome('filled'), outcomes: [] };
          if (!loaded) return outcome('not-loaded');
          filled = true;
          return outcome('filled');
        },
      },
      stats,
    );
    await clock.advance(0);
    expect(passes.length).toBe(1); // a pass at once: 404
    await clock.advance(29 * 60_000);
    expect(passes.length).toBe(1); // no hammering: the next probe is 30 min later
    await clock.advance(60_000);
    expect(passes.length).toBe(2);
    loaded = true;
    await clock.advance(30 * 60_000);
    expect(passes.length).toBe(3);
    expect(stats.filled).toBe(1);
    expect(stats.notLoaded).toBe(2);
    // A session starts: hours pass, no pass runs.
    collecting = true;
    await clock.advance(6 * 3_600_000);
    const during = passes.length;
    await clock.advance(6 * 3_600_000);
    expect(passes.length).toBe(during);
    expect(passes.every((p) => !p.collecting)).toBe(true);
    // After the close it looks at the ledger again.
    collecting = false;
    await clock.advance(61_000);
    expect(passes.length).toBe(during + 1);
    ctl.abort();
    await clock.advance(60_000);
    await loop;
  });
});
