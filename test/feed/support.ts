// Shared set-up for the feed tests: options with test-sized timings, a feed handle that collects trades,
// gaps and log lines.
import type { Trade } from '../../src/aggregate/types.js';
import { systemClock } from '../../src/clock.js';
import type { FeedGap, FeedOptions, FeedResult } from '../../src/feed/runFeed.js';
import { runFeed } from '../../src/feed/runFeed.js';
import { createFeedStats, type FeedStats } from '../../src/feed/stats.js';
import { type FeedTimings, feedTimings } from '../../src/feed/timings.js';

import { captureLog, type LogLine } from '../helpers/logCapture.js';

export interface FeedHandle {
  trades: Trade[];
  gaps: FeedGap[];
  stats: FeedStats;
  lines: LogLine[];
  ac: AbortController;
  done: Promise<FeedResult>;
  stop(): Promise<FeedResult>;
}

/** Test-sized timings: fast reconnects, liveness checks out of the way unless a test sets them. */
export function testTimings(over: Partial<FeedTimings> = {}): FeedTimings {
  return {
    ...feedTimings({
      heartbeatIntervalMs: 10_000,
      feedDataStaleMs: 600_000,
      reconnectBaseMs: 5,
      reconnectMaxMs: 20,
      authFailureBackoffMs: 300_000,
    }),
    ...over,
  };
}

const TIMING_KEYS = Object.keys(testTimings()) as (keyof FeedTimings)[];

/** Options for one test feed; a timing may be given on its own (e.g. `heartbeatIntervalMs: 50`). */
export type TestFeedOptions = Partial<Omit<FeedOptions, 'timings'>> & Partial<FeedTimings> & { url: string };

export function startFeed(overrides: TestFeedOptions): FeedHandle {
  const { log, lines } = captureLog();
  const timings: Partial<FeedTimings> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(overrides)) {
    if ((TIMING_KEYS as string[]).includes(k)) (timings as Record<string, unknown>)[k] = v;
    else rest[k] = v;
  }
  const trades: Trade[] = [];
  const gaps: FeedGap[] = [];
  const stats = createFeedStats();
  const ac = new AbortController();
  const done = runFeed({
    token: 'test-token',
    symbols: ['AAPL', 'MSFT'],
    maxSymbolsPerConnection: 50,
    timings: testTimings(timings),
    deadline: null,
    signal: ac.signal,
    clock: systemClock,
    log,
    onTrade: (t) => trades.push(t),
    onGap: (g) => gaps.push(g),
    stats,
    ...(rest as Partial<FeedOptions> & { url: string }),
  });
  return {
    trades,
    gaps,
    stats,
    lines,
    ac,
    done,
    stop() {
      ac.abort();
      return done;
    },
  };
}
