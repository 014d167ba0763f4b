// `tick-collector status`: the startup diagnostics, plus whether the database answers, then exit.
import type { Config, Flags } from '../config/load.js';
import { pageUrl } from '../http/pageUrl.js';
import { nullLogger } from '../log/logger.js';
import { diagnosticsInput, diagnosticsLines } from '../main/diagnostics.js';
import { createPool, endPool } from '../store/db/connection.js';
import { ping } from '../store/read/queries.js';
import { migrationsApplied } from '../store/schema/migrate.js';
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

interface Probe {
  running: boolean;
  line: string;
  health?: { mode: string; status: string; uptimeS: number; feed: { state: string } };
}

/** Whether a collector answers on PORT (loopback), and what it says about itself. */
export async function probeCollector(config: Config, timeoutMs = 1_500): Promise<Probe> {
  const url = `http://127.0.0.1:${config.port}/health`;
  try {
    const r = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      ...(config.webToken ? { headers: { Authorization: `Bearer ${config.webToken}` } } : {}),
    });
    if (!r.ok)
      return { running: true, line: `something answers on PORT ${config.port} (${r.status} on /health)` };
    const h = (await r.json()) as Probe['health'] & object;
    return {
      running: true,
      health: h,
      line: `running on PORT ${config.port}: ${h.mode}, ${h.status}, feed ${h.feed.state}, up ${formatUptime(h.uptimeS)}`,
    };
  } catch {
    return { running: false, line: `none answering on PORT ${config.port}` };
  }
}

function formatUptime(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  return `${(s / 3_600).toFixed(1)} h`;
}

export async function statusCommand(config: Config, flags: Flags = {}, now = Date.now()): Promise<number> {
  const page = pageUrl(config.port);
  const healthUrl = `${page}health`;
  const probe = await probeCollector(config);
  if (flags['--json']) {
    const d = diagnosticsInput(config, now, page, undefined, probe.running);
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
        page,
        health: healthUrl,
        collector: {
          running: probe.running,
          detail: probe.line,
          ...(probe.health
            ? { mode: probe.health.mode, status: probe.health.status, feed: probe.health.feed.state }
            : {}),
        },
      },
    ]);
    return 0;
  }
  const lines = diagnosticsLines(config, now, page, undefined, probe.running);
  lines.push(`collector:   ${probe.line}`);
  lines.push(
    `db check:    ${probe.running && !config.databaseUrl ? 'embedded: held by the running collector' : await databaseLine(config)}`,
  );
  process.stdout.write(`tick-collector status\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  return 0;
}
