// Starts the real poller against a FakeClock, a captured logger and the test database.
import { setMaxListeners } from 'node:events';
import { createNewsStats, type NewsStats } from '../../src/news/index.js';
import { type NewsPollerOptions, runNewsPoller } from '../../src/news/poller.js';
import { FakeClock, flushMicrotasks } from '../helpers/fakeClock.js';
import { captureLog, type LogLine } from '../helpers/logCapture.js';
import { PollEvents } from './pollEvents.js';

export const T0 = Date.UTC(2025, 0, 6, 15, 0, 0);
export const MIN = 60_000;
export const HOUR = 60 * MIN;

export interface RunningPoller {
  clock: FakeClock;
  events: PollEvents;
  lines: LogLine[];
  stats: NewsStats;
  done: Promise<void>;
  stop(): Promise<void>;
}

export function startPoller(
  opts: Pick<NewsPollerOptions, 'feeds' | 'db'> & Partial<NewsPollerOptions>,
): RunningPoller {
  const ac = new AbortController();
  // FakeClock keeps one abort listener per sleep it served; hundreds of fake-time polls would trip Node's
  // leak warning on this signal. fetchFeed's own listener is checked in fetchFeed.test.ts.
  setMaxListeners(0, ac.signal);
  const clock = new FakeClock(T0);
  const events = new PollEvents();
  const { log, lines } = captureLog();
  const stats = createNewsStats();
  const done = runNewsPoller({
    symbols: ['AAPL', 'MSFT', 'NVDA', 'TSLA', 'BRK.B'],
    intervalMs: 5 * MIN,
    timeoutMs: 2000,
    clock,
    signal: ac.signal,
    log,
    random: () => 0.5,
    stats,
    onPoll: events.push,
    ...opts,
  });
  return {
    clock,
    events,
    lines,
    stats,
    done,
    async stop() {
      ac.abort();
      await done;
    },
  };
}

/**
 * For a poller whose feeds share one host (one loop): once the loop is parked in its sleep, move the fake
 * clock to its deadline; while it is fetching, do nothing (the caller waits for the next event).
 */
export async function advanceIfParked(clock: FakeClock): Promise<void> {
  await flushMicrotasks();
  const deadline = clock.nextDeadline;
  if (deadline !== undefined) await clock.advanceTo(deadline);
}
