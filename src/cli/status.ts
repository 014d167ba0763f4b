// `tick-collector status`: the startup diagnostics, plus whether the database answers, then exit.
import type { Config } from '../config/load.js';
import { nullLogger } from '../log/logger.js';
import { diagnosticsLines } from '../main/diagnostics.js';
import { createPool, endPool } from '../store/connection.js';
import { migrationsApplied } from '../store/migrate.js';
import { ping } from '../store/queries.js';

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

export async function statusCommand(config: Config, now = Date.now()): Promise<number> {
  const lines = diagnosticsLines(config, now, `http://0.0.0.0:${config.port}/health`);
  lines.push(`db check:    ${await databaseLine(config)}`);
  process.stdout.write(`tick-collector status\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  return 0;
}
