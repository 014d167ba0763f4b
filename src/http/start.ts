// The health port as the daemon starts it (bindHealthPort, serveHealth).
// Bound first (before the database opens), then serving every part's snapshot, /readyz's checks (the database
// answers, migrations applied, the feed healthy while collecting) and the page.
import type { Clock } from '../clock.js';
import type { ShardManager } from '../cluster/lockManager.js';
import type { Collect } from '../collect/start.js';
import { type Config, ConfigError } from '../config/load.js';
import { feedHealthy } from '../feed/health.js';
import type { FeedStats } from '../feed/stats.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Logger } from '../log/logger.js';
import type { NewsStats } from '../news/index.js';
import type { EventLoopMonitor } from '../ops/eventLoop.js';
import type { PublisherStats } from '../publish/publisher.js';
import type { Database } from '../store/database.js';
import { ping } from '../store/read/queries.js';
import { migrationsApplied } from '../store/schema/migrate.js';
import type { Sink } from '../store/sink/sink.js';
import { createSnapshotter } from './fillSnapshot.js';
import { pageUrl } from './pageUrl.js';
import { runReadyChecks } from './readiness.js';
import type { WebRoutes } from './routes.js';
import { type HttpServer, startHttpServer } from './server.js';
import type { HealthSnapshot } from './snapshot.js';

type Web = WebRoutes & { close(): void };

/** The port, bound: a port in use is one ConfigError line before the database (or its lock) is touched. */
export async function bindHealthPort(config: Config, log: Logger, web: Web | null): Promise<HttpServer> {
  try {
    const http = await startHttpServer({
      port: config.port,
      log,
      token: config.webToken,
      ...(web ? { web } : {}),
    });
    if (web)
      log.info({ component: 'main', page: pageUrl(http.port) }, `page: ${pageUrl(http.port)} (starting…)`);
    return http;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConfigError('PORT', `(${config.port}) is in use by another process; set PORT to a free port`);
    }
    throw err;
  }
}

export interface HealthSources {
  clock: Clock;
  startedAt: number;
  database: Database;
  feedStats: FeedStats;
  collect: Collect;
  sink: Sink;
  ledger: Ledger;
  news: NewsStats | null;
  eventLoop: EventLoopMonitor;
  /** Whether the feed is expected to be streaming now (collecting). */
  collecting: () => boolean;
  cluster: () => ShardManager | null;
  /** The NATS publisher once started (null: not publishing); only its counters are read. */
  publisher: () => { readonly stats: PublisherStats } | null;
  web: Web | null;
}

/** Serves the collector's state from now on; returns the snapshot (the page's state events read it too). */
export function serveHealth(
  http: HttpServer,
  config: Config,
  s: HealthSources,
): (now: number) => HealthSnapshot {
  const { clock, collect, feedStats, collecting } = s;
  const { pool } = s.database;
  const snapshot = createSnapshotter({
    mode: config.mode,
    startedAt: s.startedAt,
    feed: feedStats,
    second: collect.second.stats,
    tick: collect.tick.stats,
    feedClock: collect.aggs.clock!,
    conditions: collect.rules,
    sink: s.sink.stats,
    maxBufferRows: config.sinkMaxBufferRows,
    hardMaxRows: config.sinkHardMaxRows,
    news: s.news,
    eventLoop: s.eventLoop,
    collecting,
    feedStaleMs: config.feedDataStaleMs,
    lastTrades: (max) => collect.aggs.lastTrades(max),
    cluster: () => s.cluster()?.stats ?? null,
    ledger: () => s.ledger.stats,
    publish: () => s.publisher()?.stats ?? null,
  });

  http.serve({
    ...(s.web ? { web: s.web } : {}),
    snapshot: () => snapshot(clock.now()),
    ready: () =>
      runReadyChecks({
        database: async () => {
          const p = await ping(pool);
          return p.ok ? { ok: true, detail: `${p.latencyMs} ms` } : { ok: false, detail: p.error };
        },
        migrations: async () => {
          const m = await migrationsApplied(pool);
          return {
            ok: m.upToDate,
            detail: m.upToDate ? `${m.applied.length} applied` : `pending: ${m.pending.join(', ')}`,
          };
        },
        // Outside market hours the feed is idle by design: a deploy before the open must not fail on it.
        ...(collecting()
          ? {
              feed: () => {
                // A replica holding no shard is a standby (its peers stream every symbol): ready.
                const cluster = s.cluster();
                if (cluster && cluster.stats.held.length === 0)
                  return { ok: true, detail: 'standby: no shard held' };
                return {
                  ok: feedHealthy(feedStats, clock.now(), config.feedDataStaleMs, true),
                  detail: feedStats.state,
                };
              },
            }
          : {}),
      }),
  });
  return snapshot;
}
