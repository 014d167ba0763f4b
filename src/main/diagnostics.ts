// The startup diagnostics block, filled from the configuration (shared by `run` and `status`).
import { statusAt } from '../calendar/index.js';
import type { Config } from '../config/load.js';
import { type DiagnosticsInput, formatDiagnostics } from '../scheduler/index.js';
import { describeTarget } from '../store/connection.js';
import { embeddedTarget } from './database.js';

export function describeFeed(config: Config): string {
  // A read-only command (status) with only DATABASE_URL: no feed is configured, and run would refuse.
  if (config.databaseUrl && !config.eodhdApiToken && config.feed !== 'sim')
    return 'none: EODHD_API_TOKEN is not set (run needs it with DATABASE_URL)';
  if (config.feedKind === 'sim')
    return `simulated, ${config.simRate} trades/s over a local WebSocket (no token needed)`;
  const token = config.eodhdApiToken ?? '';
  const shown = token.length > 8 ? `${token.slice(0, 2)}…${token.slice(-2)}` : '***';
  const connections = Math.ceil(config.symbols.length / config.maxSymbolsPerConnection);
  return `EODHD ${config.eodhdWsUrl} (token ${shown}), ${connections} connection${connections === 1 ? '' : 's'}`;
}

export function describeMode(config: Config): string {
  if (config.mode === 'local') return 'LOCAL (embedded database, simulated feed, market hours ignored)';
  const hours = config.skipMarketHours
    ? 'collecting now (--skip-market-hours)'
    : 'following the NYSE calendar';
  if (config.mode === 'embedded') return `EMBEDDED database (not production: set DATABASE_URL), ${hours}`;
  return `production, ${hours}`;
}

export function diagnosticsLines(
  config: Config,
  now: number,
  healthUrl: string,
  database?: string,
): string[] {
  return formatDiagnostics(diagnosticsInput(config, now, healthUrl, database));
}

/** What the diagnostics say, as data (`status --json`). */
export function diagnosticsInput(
  config: Config,
  now: number,
  healthUrl: string,
  database?: string,
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
    healthUrl,
    mode: describeMode(config),
    ignoresMarketHours: config.skipMarketHours,
  };
}
