// The news poller as the daemon starts it: on when RSS is enabled with feeds, on a connection of its own.
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { Database } from '../store/database.js';
import { runNewsPoller } from './poller.js';
import { createNewsStats, type NewsStats } from './stats.js';

/** The poller's counters when it will run (ENABLE_RSS_NEWS and at least one feed), else null. */
export function newsStatsFor(config: Config): NewsStats | null {
  return config.enableRssNews && config.rssFeeds.length > 0 ? createNewsStats() : null;
}

/** Polls until `signal`; resolves at once when off (`stats` null). */
export function startNews(
  config: Config,
  database: Database,
  stats: NewsStats | null,
  d: { log: Logger; clock: Clock; signal: AbortSignal },
): Promise<void> {
  if (!stats) return Promise.resolve();
  // News gets its own connection in production so it never takes one the candle writer needs
  // (the embedded database is one session: there it shares).
  return runNewsPoller({
    feeds: config.rssFeeds,
    symbols: config.symbols,
    intervalMs: config.rssPollIntervalMs,
    timeoutMs: config.rssTimeoutMs,
    db: database.embedded ? database.pool : database.extraPool('tick-collector-news'),
    clock: d.clock,
    signal: d.signal,
    log: d.log,
    stats,
  });
}
