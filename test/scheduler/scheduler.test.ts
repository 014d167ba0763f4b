// The scheduler driven through whole weeks in fake time: when sessions start, with which close, what it logs.
import { describe, expect, it } from 'vitest';
import { statusAt } from '../../src/calendar/index.js';
import { createSchedulerStats, runScheduler, type SessionRun } from '../../src/scheduler/index.js';
import { FakeClock, flushMicrotasks } from '../helpers/fakeClock.js';
import { captureLog } from '../helpers/logCapture.js';
import { et, fakeCollector, iso, JumpyClock } from './harness.js';

const MIN = 60_000;

function start(
  startAt: number,
  extra: {
    skipMarketHours?: boolean;
    runSession?: (s: SessionRun) => Promise<void>;
    leadMs?: number;
    tailMs?: number;
  } = {},
) {
  const timers = new FakeClock(startAt);
  const clock = new JumpyClock(timers);
  const { log, lines } = captureLog('info');
  const collector = fakeCollector(clock);
  const ctl = new AbortController();
  const stats = createSchedulerStats();
  let finished = false;
  const done = runScheduler({
    statusAt,
    clock,
    signal: ctl.signal,
    skipMarketHours: extra.skipMarketHours ?? false,
    log,
    runSession: extra.runSession ?? collector.runSession,
    stats,
    ...(extra.leadMs !== undefined ? { leadMs: extra.leadMs } : {}),
    ...(extra.tailMs !== undefined ? { tailMs: extra.tailMs } : {}),
  }).then(() => {
    finished = true;
  });
  return {
    timers,
    clock,
    lines,
    runs: collector.runs,
    ctl,
    stats,
    done,
    isFinished: () => finished,
    msgs: () => lines.map((l) => l.msg),
  };
}

describe('runScheduler over a week', () => {
  it('Friday mid-session → weekend → MLK Monday holiday → Tuesday open … Friday close', async () => {
    const h = start(et('2025-01-17T15:00'));
    await h.timers.advanceTo(et('2025-01-25T12:00'));

    expect(h.runs.map((r) => [r.date, iso(r.startedAt), iso(r.close), iso(r.endedAt), r.aborted])).toEqual([
      [
        '2025-01-17',
        '2025-01-17T20:00:00.000Z',
        '2025-01-17T21:00:00.000Z',
        '2025-01-17T21:00:00.000Z',
        false,
      ],
      [
        '2025-01-21',
        '2025-01-21T14:30:00.000Z',
        '2025-01-21T21:00:00.000Z',
        '2025-01-21T21:00:00.000Z',
        false,
      ],
      [
        '2025-01-22',
        '2025-01-22T14:30:00.000Z',
        '2025-01-22T21:00:00.000Z',
        '2025-01-22T21:00:00.000Z',
        false,
      ],
      [
        '2025-01-23',
        '2025-01-23T14:30:00.000Z',
        '2025-01-23T21:00:00.000Z',
        '2025-01-23T21:00:00.000Z',
        false,
      ],
      [
        '2025-01-24',
        '2025-01-24T14:30:00.000Z',
        '2025-01-24T21:00:00.000Z',
        '2025-01-24T21:00:00.000Z',
        false,
      ],
    ]);
    expect(h.stats).toMatchObject({ state: 'waiting', sessionsStarted: 5, restarts: 0 });
    expect(iso(h.stats.nextOpen)).toBe('2025-01-27T14:30:00.000Z');

    // Log volume: a week of sleeping in ≤ 5-minute steps (~2,000 wakes) writes a few lines per wait.
    const waiting = h.msgs().filter((m) => m.startsWith('market closed'));
    expect(waiting.length).toBe(14); // the weekend 4, three nights 3 each, Friday evening 1
    expect(h.lines.length).toBe(19); // and one "market open" line per session
    const weekend = waiting.filter((m) => m.includes('next open Tue 2025-01-21'));
    expect(weekend).toEqual([
      'market closed (after the close); next open Tue 2025-01-21 09:30 ET (14:30 UTC) in 3d 17h 30m',
      'market closed (holiday: Martin Luther King Jr. Day); next open Tue 2025-01-21 09:30 ET (14:30 UTC) in 22h 20m',
      'market closed (before the open); next open Tue 2025-01-21 09:30 ET (14:30 UTC) in 5h 35m',
      'market closed (before the open); next open Tue 2025-01-21 09:30 ET (14:30 UTC) in 1h 20m',
    ]);
    expect(h.msgs()).toContain('market open: collecting until Tue 2025-01-21 16:00 ET (21:00 UTC)');
    expect(h.lines.every((l) => l.component === 'scheduler')).toBe(true);

    h.ctl.abort();
    await h.done;
  });

  it('names the holiday while waiting on it', async () => {
    const h = start(et('2025-01-20T08:00'));
    await flushMicrotasks();
    expect(h.msgs()[0]).toBe(
      'market closed (holiday: Martin Luther King Jr. Day); next open Tue 2025-01-21 09:30 ET (14:30 UTC) in 1d 1h 30m',
    );
    h.ctl.abort();
    await h.done;
  });

  it('a start after the close waits for the next open', async () => {
    const h = start(et('2024-06-11T17:00'));
    await h.timers.advanceTo(et('2024-06-12T09:29:59'));
    expect(h.runs).toEqual([]);
    await h.timers.advanceTo(et('2024-06-12T10:00'));
    expect(h.runs.map((r) => [iso(r.startedAt), iso(r.close)])).toEqual([
      ['2024-06-12T13:30:00.000Z', '2024-06-12T20:00:00.000Z'],
    ]);
    h.ctl.abort();
    await h.done;
    expect(h.runs[0]?.aborted).toBe(true);
  });

  it('skips the 2025-01-09 special closure', async () => {
    const h = start(et('2025-01-08T16:30'));
    await h.timers.advanceTo(et('2025-01-09T12:00'));
    expect(h.runs).toEqual([]);
    await h.timers.advanceTo(et('2025-01-10T16:30'));
    expect(h.runs.map((r) => r.date)).toEqual(['2025-01-10']);
    expect(iso(h.runs[0]?.startedAt)).toBe('2025-01-10T14:30:00.000Z');
    h.ctl.abort();
    await h.done;
  });

  it("an early-close day's deadline is 13:00 ET", async () => {
    const h = start(et('2024-11-29T10:00'));
    await h.timers.advanceTo(et('2024-11-29T18:00'));
    expect(h.runs.map((r) => [iso(r.close), iso(r.endedAt)])).toEqual([
      ['2024-11-29T18:00:00.000Z', '2024-11-29T18:00:00.000Z'],
    ]);
    expect(h.msgs()).toContain(
      'market open: collecting until Fri 2024-11-29 13:00 ET (18:00 UTC), an early close',
    );
    expect(h.msgs().some((m) => m.startsWith('market closed (after the early close (13:00 ET))'))).toBe(true);
    h.ctl.abort();
    await h.done;
  });
});

describe('lead and tail around the session', () => {
  it('connects leadMs before the open, runs tailMs past the close, and never leads into a holiday', async () => {
    // Friday 2025-01-17 evening → MLK Monday (holiday) → Tuesday.
    const h = start(et('2025-01-17T18:00'), { leadMs: 30_000, tailMs: 10_000 });
    await h.timers.advanceTo(et('2025-01-21T17:00'));
    expect(h.runs.map((r) => [r.date, iso(r.startedAt), iso(r.close), iso(r.endedAt)])).toEqual([
      ['2025-01-21', '2025-01-21T14:29:30.000Z', '2025-01-21T21:00:10.000Z', '2025-01-21T21:00:10.000Z'],
    ]);
    expect(h.msgs().some((m) => m?.startsWith('market open: connecting 30s before the open'))).toBe(true);
    h.ctl.abort();
    await h.done;
  });
});

describe('shutdown', () => {
  it('an abort during a sleep returns at once, without advancing time', async () => {
    const h = start(et('2024-06-15T12:00')); // Saturday
    await flushMicrotasks();
    expect(h.timers.pending).toBe(1);
    h.ctl.abort();
    await flushMicrotasks();
    expect(h.isFinished()).toBe(true);
    expect(h.timers.now()).toBe(et('2024-06-15T12:00'));
    expect(h.stats.state).toBe('stopped');
    expect(h.msgs().at(-1)).toBe('scheduler stopped');
  });

  it('an abort during a session reaches runSession and the scheduler returns', async () => {
    const h = start(et('2024-06-14T10:00'));
    await flushMicrotasks();
    expect(h.runs).toHaveLength(1);
    h.ctl.abort();
    await h.done;
    expect(h.runs[0]).toMatchObject({ aborted: true, endedAt: et('2024-06-14T10:00') });
    expect(h.msgs().filter((m) => m.includes('again'))).toEqual([]);
  });
});

describe('distrusting the clock', () => {
  it('a timer that fires early (clock 30 s behind) sleeps again and never starts before the open', async () => {
    const h = start(et('2024-06-12T09:00'));
    await h.timers.advanceTo(et('2024-06-12T09:29'));
    h.clock.offset = -30_000; // the wall clock steps back 30 s just before the open
    await h.timers.advanceTo(et('2024-06-12T09:31'));
    expect(h.runs).toHaveLength(1);
    expect(iso(h.runs[0]?.startedAt)).toBe('2024-06-12T13:30:00.000Z'); // by the wall clock: exactly the open
    h.ctl.abort();
    await h.done;
  });

  it('a forward jump (suspended over the weekend) connects at once and says so', async () => {
    const h = start(et('2024-06-15T12:00')); // Saturday
    await h.timers.advance(MIN);
    h.clock.offset = et('2024-06-17T11:00') - h.timers.now(); // resumes Monday 11:00
    await h.timers.advance(5 * MIN);
    expect(h.runs).toHaveLength(1);
    expect(h.runs[0]?.date).toBe('2024-06-17');
    expect(h.runs[0]?.startedAt).toBeLessThanOrEqual(et('2024-06-17T11:05'));
    expect(iso(h.runs[0]?.close)).toBe('2024-06-17T20:00:00.000Z');
    expect(h.msgs().some((m) => /^woke .* late/.test(m))).toBe(true);
    h.ctl.abort();
    await h.done;
  });

  it('a backward jump into a session collects that session until its close', async () => {
    const h = start(et('2024-06-15T12:00')); // Saturday
    await flushMicrotasks();
    h.clock.offset = et('2024-06-14T15:00') - h.timers.now(); // clock now reads Friday 15:00
    await h.timers.advance(5 * MIN);
    expect(h.runs.map((r) => r.date)).toEqual(['2024-06-14']);
    expect(h.msgs().some((m) => m.startsWith('clock went backwards'))).toBe(true);
    await h.timers.advance(60 * MIN);
    expect(iso(h.runs[0]?.endedAt)).toBe('2024-06-14T20:00:00.000Z');
    h.ctl.abort();
    await h.done;
  });
});

describe('a session that ends before the close', () => {
  it('is started again after a doubling backoff, not spun', async () => {
    const h = start(et('2024-06-12T10:00'), {
      runSession: async ({ close }) => {
        h.runs.push({ startedAt: h.clock.now(), close, date: undefined });
        throw new Error('boom');
      },
    });
    await h.timers.advance(31_000);
    const gaps = h.runs.slice(1).map((r, i) => r.startedAt - (h.runs[i]?.startedAt ?? 0));
    expect(gaps).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(h.stats.restarts).toBe(6); // the sixth failure, at +31 s, is waiting out its 32 s backoff
    expect(h.lines.filter((l) => l.level === 'warn')).toHaveLength(6);
    expect(h.lines.find((l) => l.level === 'warn')?.msg).toBe(
      'collector session failed before the close; starting it again in 1s',
    );
    h.ctl.abort();
    await h.done;
  });

  it('backs off at most until the close, then waits for the next open', async () => {
    let calls = 0;
    const h = start(et('2024-06-12T15:59:59'), {
      runSession: async () => {
        calls++;
      },
    });
    await h.timers.advanceTo(et('2024-06-12T20:00'));
    expect(calls).toBe(1); // the 1 s backoff was capped by the close; no second call after 16:00
    expect(h.stats.state).toBe('waiting');
    h.ctl.abort();
    await h.done;
  });

  it('a session that overruns its close is aborted after the grace period', async () => {
    const h = start(et('2024-06-12T15:00'), {
      runSession: async ({ signal }) => {
        // ignores its deadline, like the collector in the postmortem
        while (!signal.aborted) await h.clock.sleep(10 * MIN, signal);
        h.runs.push({ startedAt: 0, close: null, date: 'ended', endedAt: h.clock.now() });
      },
    });
    await h.timers.advanceTo(et('2024-06-12T16:10'));
    expect(h.runs.map((r) => iso(r.endedAt))).toEqual(['2024-06-12T20:00:30.000Z']);
    expect(h.msgs().some((m) => m.includes('after the close; stopping it'))).toBe(true);
    expect(h.stats.state).toBe('waiting');
    h.ctl.abort();
    await h.done;
  });
});

describe('SKIP_MARKET_HOURS', () => {
  it('collects at once on a Saturday, with no close, until shutdown', async () => {
    const h = start(et('2024-06-15T12:00'), { skipMarketHours: true });
    await h.timers.advance(3 * 3_600_000);
    expect(h.runs).toHaveLength(1);
    expect(h.runs[0]).toMatchObject({ close: null, date: undefined });
    h.ctl.abort();
    await h.done;
    expect(h.runs[0]?.aborted).toBe(true);
  });
});
