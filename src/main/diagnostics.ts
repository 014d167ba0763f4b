// The startup diagnostics block, filled from the configuration (shared by `run` and `status`).
import { statusAt } from '../calendar/index.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { type DiagnosticsInput, formatDiagnostics } from '../scheduler/index.js';
import { embeddedTarget } from '../store/database.js';
import { describeTarget } from '../store/db/connection.js';

export function describeFeed(config: Config): string {
  // A read-only command (status) with only DATABASE_URL: no feed is configured, and run would refuse.
  if (noFeed(config)) return 'none: EODHD_API_TOKEN is not set (run needs it with DATABASE_URL)';
  if (config.feedKind === 'sim')
    return `simulated, ${config.simRate} trades/s over a local WebSocket (no token needed)`;
  const token = config.eodhdApiToken ?? '';
  const shown = token.length > 8 ? `${token.slice(0, 2)}…${token.slice(-2)}` : '***';
  const connections = Math.ceil(config.symbols.length / config.maxSymbolsPerConnection);
  return `EODHD ${config.eodhdWsUrl} (token ${shown}), ${connections} connection${connections === 1 ? '' : 's'}`;
}

/** Whether a read-only command found no feed configured (run would refuse to start). */
function noFeed(config: Config): boolean {
  return config.databaseUrl !== null && !config.eodhdApiToken && config.feed !== 'sim';
}

/**
 * What a run with this configuration does. `running`: false when `status` found no collector answering
 * on PORT (it then says what a run would do, not what is happening).
 */
export function describeMode(config: Config, running = true): string {
  if (config.mode === 'local') return 'LOCAL (embedded database, simulated feed, market hours ignored)';
  if (noFeed(config)) return 'production database, no feed configured (set EODHD_API_TOKEN to run)';
  const why = config.feedKind === 'sim' ? 'the simulated feed ignores market hours' : '--skip-market-hours';
  const hours = config.skipMarketHours
    ? `${running ? 'collecting now' : 'would collect at once'} (${why})`
    : 'following the NYSE calendar';
  if (config.mode === 'embedded') return `EMBEDDED database (not production: set DATABASE_URL), ${hours}`;
  return `production, ${hours}`;
}

export function diagnosticsLines(
  config: Config,
  now: number,
  pageUrl: string,
  database?: string,
  running = true,
): string[] {
  return formatDiagnostics(diagnosticsInput(config, now, pageUrl, database, running));
}

/** What the diagnostics say, as data (`status --json`). */
export function diagnosticsInput(
  config: Config,
  now: number,
  pageUrl: string,
  database?: string,
  running = true,
): DiagnosticsInput {
  return {
    now,
    status: statusAt(now),
    symbols: config.symbols,
    feed: describeFeed(config),
    database:
      database ??
      (config.databaseUrl
        ? describeTarget(config.databaseUrl, config.pgSslMode)
        : embeddedTarget(config.dataDir)),
    candleKinds: [
      `${config.candleIntervalMs / 1000}s time candles`,
      `${config.tickCandleSize}-tick candles`,
      ...(config.archiveTicks ? ['raw ticks'] : []),
    ],
    pageUrl,
    mode: describeMode(config, running),
    ignoresMarketHours: config.skipMarketHours && !noFeed(config),
    running,
  };
}

/** The start-up block in the log (and, in local mode, what to set for real trades). */
export function logStarting(
  log: Logger,
  config: Config,
  now: number,
  pageUrl: string,
  database: string,
  extra: readonly string[],
): void {
  log.info(
    { component: 'main', mode: config.mode },
    `tick-collector starting\n  ${[...diagnosticsLines(config, now, pageUrl, database), ...extra].join('\n  ')}`,
  );
  if (config.mode === 'local') {
    log.info(
      { component: 'main' },
      'LOCAL MODE: simulated trades into the embedded database under ' +
        `${config.dataDir}. Set EODHD_API_TOKEN and DATABASE_URL to collect real trades. Ctrl-C stops.`,
    );
  }
}
