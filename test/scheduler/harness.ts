// Test harness for the scheduler: a wall clock that can jump over monotonic fake timers and a fake collector that runs until its close on the fake clock.
import { DateTime } from 'luxon';
import type { Clock } from '../../src/clock.js';
import type { SessionRun } from '../../src/scheduler/index.js';
import type { FakeClock } from '../helpers/fakeClock.js';

/** An instant from an America/New_York wall time, e.g. et('2025-01-17T15:00'). */
export const et = (s: string) => DateTime.fromISO(s, { zone: 'America/New_York' }).toMillis();
export const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

/**
 * Timers run on the FakeClock (monotonic, like setTimeout), while now() adds an offset that a test can
 * change: that is what a wall-clock jump (NTP step, suspend/resume, manual change) looks like to the code.
 */
export class JumpyClock implements Clock {
  offset = 0;
  constructor(readonly timers: FakeClock) {}
  now(): number {
    return this.timers.now() + this.offset;
  }
  /** FakeClock leaves its abort listener on the caller's signal; a per-sleep signal keeps a week of sleeps
   * from piling thousands of listeners onto the scheduler's one long-lived signal. */
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (!signal) return this.timers.sleep(ms);
    const own = new AbortController();
    const relay = () => own.abort();
    if (signal.aborted) return;
    signal.addEventListener('abort', relay, { once: true });
    try {
      await this.timers.sleep(ms, own.signal);
    } finally {
      signal.removeEventListener('abort', relay);
    }
  }
}

export interface Run {
  startedAt: number;
  close: number | null;
  date: string | undefined;
  endedAt?: number;
  aborted?: boolean;
}

/** A stand-in for the connect loop: returns at its close (by the clock it is given) or on abort. */
export function fakeCollector(clock: Clock) {
  const runs: Run[] = [];
  const runSession = async ({ close, session, signal }: SessionRun) => {
    const run: Run = { startedAt: clock.now(), close, date: session?.date };
    runs.push(run);
    while (!signal.aborted && (close === null || clock.now() < close)) {
      await clock.sleep(close === null ? 60_000 : close - clock.now(), signal);
    }
    run.endedAt = clock.now();
    run.aborted = signal.aborted;
  };
  return { runs, runSession };
}
