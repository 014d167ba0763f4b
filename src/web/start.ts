// The web page's options from the configuration: its own one-connection pool on a real server (so a page
// reading history never takes a connection the candle writer needs; the embedded database is one session,
// shared), and the secrets it must never show.
import type { Config } from '../config/load.js';
import type { FeedStats } from '../feed/stats.js';
import type { HealthSnapshot } from '../http/snapshot.js';
import type { Logger } from '../log/logger.js';
import type { Database } from '../store/database.js';
import type { Asset } from './assets.js';
import { createWebUi, type WebUi, type WebUiOptions } from './index.js';
import { createStartingPage, type StartingPage } from './starting.js';

/** The page when WEB_UI is on (the default), else null. */
export function startWebUi(...args: Parameters<typeof webUiOptions>): WebUi | null {
  return args[0].webUi ? createWebUi(webUiOptions(...args)) : null;
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
