// Shared set-up for the feed tests: options with test-sized timings, a feed handle that collects trades,
// gaps and log lines.
import type { Trade } from '../../src/aggregate/types.js';
import { systemClock } from '../../src/clock.js';
import type { FeedGap, FeedOptions, FeedResult } from '../../src/feed/runFeed.js';
import { runFeed } from '../../src/feed/runFeed.js';
import { createFeedStats, type FeedStats } from '../../src/feed/stats.js';

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

export function startFeed(overrides: Partial<FeedOptions> & { url: string }): FeedHandle {
  const { log, lines } = captureLog();
  const trades: Trade[] = [];
  const gaps: FeedGap[] = [];
  const stats = createFeedStats();
  const ac = new AbortController();
  const done = runFeed({
    token: 'test-token',
    symbols: ['AAPL', 'MSFT'],
    maxSymbolsPerConnection: 50,
    heartbeatIntervalMs: 10_000,
    dataStaleMs: 600_000,
    reconnectBaseMs: 5,
    reconnectMaxMs: 20,
    authFailureBackoffMs: 300_000,
    deadline: null,
    signal: ac.signal,
    clock: systemClock,
    log,
    onTrade: (t) => trades.push(t),
    onGap: (g) => gaps.push(g),
    stats,
    ...overrides,
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
