// `tick-collector status`: the startup diagnostics, plus whether the database answers, then exit.
import type { Config, Flags } from '../config/load.js';
import { nullLogger } from '../log/logger.js';
import { diagnosticsInput, diagnosticsLines } from '../main/diagnostics.js';
import { createPool, endPool } from '../store/connection.js';
import { migrationsApplied } from '../store/migrate.js';
import { ping } from '../store/queries.js';
import { VERSION } from '../version.js';
import { writeJsonLines } from './json.js';

async function databaseLine(config: Config): Promise<string> {
  if (!config.databaseUrl) return 'embedded: opened by the collector at start';
  const pool = createPool({
    url: config.databaseUrl,
    defaultSslMode: config.pgSslMode,
    max: 1,
    connectTimeoutMs: Math.min(config.dbConnectTimeoutMs, 5_000),
    queryTimeoutMs: 5_000,
    log: nullLogger(),
  });
  try {
    const p = await ping(pool);
    if (!p.ok) return `NOT reachable: ${p.error}`;
    const m = await migrationsApplied(pool);
    return `reachable (${p.latencyMs} ms), ${m.upToDate ? 'migrations up to date' : `${m.pending.length} migration(s) pending (applied at start)`}`;
  } catch (err) {
    return `NOT usable: ${(err as Error).message}`;
  } finally {
    await endPool(pool);
  }
}

export async function statusCommand(config: Config, flags: Flags = {}, now = Date.now()): Promise<number> {
  const healthUrl = `http://127.0.0.1:${config.port}/health`;
  if (flags['--json']) {
    const d = diagnosticsInput(config, now, healthUrl);
    const s = d.status;
    writeJsonLines([
      {
        version: VERSION,
        mode: config.mode,
        description: d.mode,
        now: new Date(now).toISOString(),
        market: {
          open: s.open,
          reason: s.reason,
          ...(s.holiday ? { holiday: s.holiday } : {}),
          ignored: config.skipMarketHours,
          nextOpen: new Date(s.nextOpen).toISOString(),
          nextClose: new Date(s.nextClose).toISOString(),
        },
        symbols: d.symbols,
        feed: d.feed,
        database: d.database,
        databaseCheck: await databaseLine(config),
        candles: d.candleKinds,
        health: healthUrl,
      },
    ]);
    return 0;
  }
  const lines = diagnosticsLines(config, now, healthUrl);
  lines.push(`db check:    ${await databaseLine(config)}`);
  process.stdout.write(`tick-collector status\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  return 0;
}
