// The web page as the daemon starts it (startWebUi), and the page shown while it starts.
// Its options from the configuration (its own one-connection pool on a real server, so a page reading history
// never takes a connection the candle writer needs; the embedded database is one session, shared), the
// secrets it must never show, and its live stream on the commit notice.
import type { Candle } from '../aggregate/types.js';
import type { Config } from '../config/load.js';
import type { FeedStats } from '../feed/stats.js';
import type { HealthSnapshot } from '../http/snapshot.js';
import type { Logger } from '../log/logger.js';
import type { Database } from '../store/database.js';
import type { Sink } from '../store/sink/sink.js';
import type { Asset } from './assets.js';
import { createWebUi, type WebUi, type WebUiOptions } from './index.js';
import { createStartingPage, type StartingPage } from './starting.js';

/**
 * The page when WEB_UI is on (the default), else null. Its live stream hears of a candle from the sink's one
 * commit notice, never earlier: it never shows a candle the database does not hold.
 */
export function startWebUi(
  sink: Pick<Sink, 'onCommit'>,
  ...args: Parameters<typeof webUiOptions>
): WebUi | null {
  if (!args[0].webUi) return null;
  const web = createWebUi(webUiOptions(...args));
  sink.onCommit((n) => {
    if (n.table !== 'candles_1s' && n.table !== 'candles_100t') return;
    for (const c of n.committed) web.push(c as Candle);
  });
  return web;
}

/** The page from the moment the port listens (before the database opens), when WEB_UI is on. */
export function startStartingPage(config: Config): StartingPage | null {
  return config.webUi ? createStartingPage(pageConfig(config)) : null;
}

function pageConfig(config: Config) {
  return {
    symbols: config.symbols,
    mode: config.mode,
    candleIntervalMs: config.candleIntervalMs,
    tickCandleSize: config.tickCandleSize,
    marketHoursIgnored: config.skipMarketHours && config.mode !== 'local',
  };
}

export function webUiOptions(
  config: Config,
  database: Database,
  log: Logger,
  snapshot: () => HealthSnapshot,
  feed: () => FeedStats,
  assets?: Map<string, Asset>,
): WebUiOptions {
  return {
    ...pageConfig(config),
    ...(assets ? { assets } : {}),
    pool: database.embedded ? database.pool : database.extraPool('tick-collector-web'),
    snapshot,
    feed,
    log,
    secrets: [config.eodhdApiToken, config.databaseUrl, passwordOf(config.databaseUrl), config.webToken],
  };
}

function passwordOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return decodeURIComponent(new URL(url).password) || null;
  } catch {
    return null;
  }
}
