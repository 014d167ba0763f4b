// The daemon, wired: database → sink ← aggregators ← feed (inside the scheduler's sessions), plus the
// health server, the news poller, the watchdog and the progress line. One object with start-up done and
// an idempotent stop(), which main hands to the shutdown handler.
import { hostname } from 'node:os';
import { Aggregators } from '../aggregate/aggregator.js';
import { ConditionRules } from '../aggregate/conditions.js';
import { SecondAggregator } from '../aggregate/secondAggregator.js';
import { TickAggregator } from '../aggregate/tickAggregator.js';
import type { Candle, Trade } from '../aggregate/types.js';
import { startGapKeeper } from '../backfill/daemon.js';
import { simTapeFile } from '../backfill/index.js';
import { statusAt } from '../calendar/index.js';
import type { Clock } from '../clock.js';
import { writeFence } from '../cluster/fence.js';
import type { ShardManager } from '../cluster/lockManager.js';
import { createShardManager } from '../cluster/startCluster.js';
import { createLagWatch } from '../collect/lagWatch.js';
import { createSessionRunner } from '../collect/session.js';
import { type Config, ConfigError } from '../config/load.js';
import { feedHealthy } from '../feed/health.js';
import { Pacer } from '../feed/pacer.js';
import { arrivalCounter, runFeed } from '../feed/runFeed.js';
import { type SimServer, startSimServer } from '../feed/sim/server.js';
import { createFeedStats } from '../feed/stats.js';
import { feedTimings } from '../feed/timings.js';
import { createSnapshotter } from '../http/fillSnapshot.js';
import { runReadyChecks } from '../http/readiness.js';
import { type HttpServer, startHttpServer } from '../http/server.js';
import { startLedger } from '../ledger/ledger.js';
import type { Logger } from '../log/logger.js';
import { createNewsStats, runNewsPoller } from '../news/index.js';
import { startEventLoopMonitor } from '../ops/eventLoop.js';
import { startWatchdog } from '../ops/watchdog.js';
import { watchGapOpens } from '../publish/gapWatch.js';
import type { Publisher } from '../publish/publisher.js';
import { publishTarget, startPublisher } from '../publish/start.js';
import { createSchedulerStats, runScheduler } from '../scheduler/index.js';
import { type Database, openMigrated } from '../store/database.js';
import { loadOpenTickCandles, ping } from '../store/read/queries.js';
import { startMaintenance } from '../store/schema/maintenance.js';
import { migrationsApplied } from '../store/schema/migrate.js';
import { Sink, type SinkSummary } from '../store/sink/sink.js';
import type { Asset } from '../web/assets.js';
import { startStartingPage, startWebUi } from '../web/start.js';
import type { StartingPage } from '../web/starting.js';
import { diagnosticsLines } from './diagnostics.js';
import { pageUrl } from './pageUrl.js';
import { startProgress } from './progress.js';

export interface Collector {
  /** Settles when the scheduler loop ends (only on stop, or on a bug: then it rejects). */
  done: Promise<void>;
  /** Stops everything in order within `deadlineMs`; idempotent. */
  stop(
    deadlineMs: number,
    step?: <T>(name: string, fn: () => Promise<T>) => Promise<T>,
  ): Promise<SinkSummary | null>;
}

export interface CollectorDeps {
  log: Logger;
  clock: Clock;
  /** The watchdog found the pipeline wedged: main shuts down with a non-zero code. */
  onFatal: (reason: string) => void;
  /** Aborts a start-up that is still waiting for the database. */
  signal: AbortSignal;
}

/** Thrown by startCollector when shutdown came before start-up finished. */
export class StartAborted extends Error {
  constructor() {
    super('start-up aborted by shutdown');
  }
}

export async function startCollector(config: Config, deps: CollectorDeps): Promise<Collector> {
  const { log, clock } = deps;
  // The port first: a port in use is one line before the database (or its lock) is touched. The page is
  // served from then on (it says "starting" until the collector's state comes).
  const starting = startStartingPage(config);
  const http = await bindHttp(config, log, starting);
  const database = await openMigrated(config, log, clock, deps.signal).catch(async (err: unknown) => {
    await http.close();
    throw err;
  });
  if (!database) {
    await http.close();
    throw new StartAborted();
  }
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => http.close()];
  try {
    return await wire(config, deps, database, http, cleanups, starting?.assets);
  } catch (err) {
    // A part that failed to start (the simulator's port in use, say): close what did start, the database last.
    await Promise.allSettled(cleanups.reverse().map((c) => c()));
    await database.close().catch(() => undefined);
    throw err;
  }
}

async function bindHttp(config: Config, log: Logger, web: StartingPage | null): Promise<HttpServer> {
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

async function wire(
  config: Config,
  deps: CollectorDeps,
  database: Database,
  http: HttpServer,
  cleanups: (() => Promise<unknown> | unknown)[],
  assets?: Map<string, Asset>,
): Promise<Collector> {
  const { log, clock } = deps;
  const startedAt = clock.now();
  const abort = new AbortController();
  const { pool } = database;

  const sink = new Sink({
    pool,
    dataDir: config.dataDir,
    log,
    clock,
    flushMs: config.sinkFlushMs,
    batchRows: config.sinkBatchRows,
    maxBufferRows: config.sinkMaxBufferRows,
    hardMaxRows: config.sinkHardMaxRows,
    archiveTicks: config.archiveTicks,
    queryTimeoutMs: config.dbQueryTimeoutMs,
    // PGlite's socket server does not speak COPY FROM STDIN: archive through batched INSERTs there.
    ticksVia: database.embedded ? 'insert' : 'copy',
    // Replicas: candle writes skip the symbols whose shard another collector holds (cluster/fence.ts).
    ...(database.embedded ? {} : { fence: () => writeFence(cluster?.fencePid() ?? -1) }),
  });
  cleanups.push(() => sink.stop(1_000));
  // The ledger (src/ledger): coverage advances only by what the sink's commit notice confirms; every gap is
  // derived from it. Built before the aggregators so that every candle row is tagged.
  let heldFrom = (): number => Number.POSITIVE_INFINITY;
  const ledger = await startLedger({
    pool,
    clock,
    log,
    sink,
    connections: () => feedStats.connections,
    heldFrom: () => heldFrom(),
    mode: config.skipMarketHours ? 'skip' : 'calendar',
    symbols: config.symbols,
    intervalMs: config.candleIntervalMs,
    tailMs: config.sessionTailMs,
    runId: `${hostname()}-${process.pid}-${startedAt}`,
  });
  cleanups.push(() => ledger.stop(false));
  const web = startWebUi(
    config,
    database,
    log,
    () => snapshot(clock.now()),
    () => feedStats,
    assets,
  );
  // The page's live stream and the publisher hear of a candle from the one commit notice, never earlier:
  // neither shows a candle the database does not hold.
  if (web) {
    sink.onCommit((n) => {
      if (n.table !== 'candles_1s' && n.table !== 'candles_100t') return;
      for (const c of n.committed) web.push(c as Candle);
    });
  }
  const nats = await publishTarget(config);
  let publisher: Publisher | null = null;
  const out = (c: Parameters<Sink['push']>[0]) => {
    ledger.tag(c);
    sink.push(c);
  };
  const second = new SecondAggregator(
    {
      intervalMs: config.candleIntervalMs,
      graceMs: config.candleGraceMs,
      latenessMs: config.candleLatenessMs,
    },
    out,
  );
  const tick = new TickAggregator({ size: config.tickCandleSize }, out);
  const rules = new ConditionRules(config.candleConditions, (code) =>
    log.warn(
      { component: 'aggregate', code },
      `trade condition ${code} has no rule: such trades update every field (counted in /metrics)`,
    ),
  );
  const aggs = new Aggregators({ second, tick });
  const archive = config.archiveTicks ? (t: Trade) => sink.pushTick(t) : null;

  // The simulator runs in-process in local mode: a real WebSocket on loopback, the same code path as EODHD.
  let sim: SimServer | null = null;
  if (config.feedKind === 'sim') {
    sim = await startSimServer({
      port: config.simPort,
      rate: config.simRate,
      symbols: config.symbols,
      log,
      tapeFile: simTapeFile(config),
    });
    cleanups.push(() => sim?.close());
  }
  const feedUrl = sim ? sim.url : config.eodhdWsUrl;
  const token = sim ? 'local' : (config.eodhdApiToken ?? '');

  const feedStats = createFeedStats();
  const schedulerStats = createSchedulerStats();
  const newsStats = config.enableRssNews && config.rssFeeds.length > 0 ? createNewsStats() : null;
  const eventLoop = startEventLoopMonitor();
  cleanups.push(() => eventLoop.stop());
  const collecting = () => schedulerStats.state === 'collecting';
  const snapshot = createSnapshotter({
    mode: config.mode,
    startedAt,
    feed: feedStats,
    second: second.stats,
    tick: tick.stats,
    feedClock: aggs.clock!,
    conditions: rules,
    sink: sink.stats,
    maxBufferRows: config.sinkMaxBufferRows,
    hardMaxRows: config.sinkHardMaxRows,
    news: newsStats,
    eventLoop,
    collecting,
    feedStaleMs: config.feedDataStaleMs,
    lastTrades: (max) => aggs.lastTrades(max),
    cluster: () => cluster?.stats ?? null,
    ledger: () => ledger.stats,
    publish: () => publisher?.stats ?? null,
  });

  http.serve({
    ...(web ? { web } : {}),
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

  log.info(
    { component: 'main', mode: config.mode },
    `tick-collector starting\n  ${[...diagnosticsLines(config, clock.now(), pageUrl(http.port), database.target), nats.banner].join('\n  ')}`,
  );
  if (config.mode === 'local') {
    log.info(
      { component: 'main' },
      'LOCAL MODE: simulated trades into the embedded database under ' +
        `${config.dataDir}. Set EODHD_API_TOKEN and DATABASE_URL to collect real trades. Ctrl-C stops.`,
    );
  }

  // Idle symbols close their candles on the collector's clock, not only when a later trade arrives.
  const lagWatch = createLagWatch(log, aggs.clock!);
  let gapOpens: ((now: number) => void) | null = null;
  const flushTimer = setInterval(
    () => {
      aggs.flush(clock.now());
      ledger.checkpoint();
      lagWatch();
      gapOpens?.(clock.now());
    },
    Math.min(250, config.sinkFlushMs),
  );
  const progress = startProgress({
    log,
    everyMs: config.mode === 'local' ? 5_000 : 60_000,
    clock,
    feed: feedStats,
    sink: sink.stats,
    active: () => collecting() || config.mode === 'local',
  });

  // Replicas share the symbols through PostgreSQL: shard locks on a session of their own (cluster/).
  let cluster: ShardManager | null = null;
  const feedSeq = arrivalCounter(feedStats, clock.now());
  // One pacer for every per-shard run: the turn budget and the sink hold are the process's, not a shard's.
  const feedPacer = new Pacer({
    turnBudgetMs: feedTimings(config).turnBudgetMs,
    holdCheckMs: feedTimings(config).holdCheckMs,
    backlog: () => (sink.stats.connected ? sink.stats.bufferedRows / config.sinkMaxBufferRows : 0),
    clock,
    stats: feedStats,
    signal: abort.signal,
  });
  const session = createSessionRunner({
    clock,
    log,
    rules,
    aggs,
    tailMs: config.sessionTailMs,
    loadTickCandles: (date, symbols) => loadOpenTickCandles(pool, date, symbols ?? config.symbols),
    spoolDrained: (signal) => sink.spoolDrained(signal),
    archive,
    symbols: config.symbols,
    onHole: (symbols, from, to, reason) => ledger.hole(symbols, from, to, reason),
    onStopSymbols: (symbols) => ledger.stopSymbols(symbols),
    ...(database.embedded
      ? {}
      : {
          shards: { held: () => cluster?.heldShards() ?? [] },
          candlesSettled: () => sink.candlesSettled(),
        }),
    runFeed: ({ close, signal }, onTrade, shard) =>
      runFeed({
        url: feedUrl,
        token,
        symbols: shard?.symbols ?? config.symbols,
        // One run per shard at once: they share one arrival counter, or their seqs would collide.
        ...(shard ? { shardOfMany: cluster!.stats.shards > 1 } : {}),
        seq: feedSeq,
        // Backpressure: a sink that is writing but falling behind pauses reading (an outage spools instead).
        pacer: feedPacer,
        maxSymbolsPerConnection: config.maxSymbolsPerConnection,
        timings: feedTimings(config),
        deadline: close,
        signal,
        clock,
        log,
        onTrade,
        // An outage's story for the derived gap (its interval comes from the coverage).
        onGap: (g) =>
          ledger.note(
            g.symbols?.length ? g.symbols : g.symbol === '*' ? config.symbols : g.symbol.split(','),
            g.startedAt,
            g.endedAt,
            `feed down: ${g.reason}`,
          ),
        inSession: config.skipMarketHours ? () => true : (now) => statusAt(now).open,
        stats: feedStats,
      }),
  });

  heldFrom = () => Math.min(aggs.heldFrom(), session.heldFrom());
  // The overnight backfill: src/backfill.
  const gapKeeper = startGapKeeper(config, {
    pool,
    clock,
    log,
    waiting: () => schedulerStats.state === 'waiting',
    apiUrl: sim ? sim.apiUrl : config.eodhdApiUrl,
    signal: abort.signal,
  });
  cleanups.push(() => gapKeeper.stop());
  if (!database.embedded) {
    cluster = await createShardManager({
      pool,
      lockPool: database.extraPool('tick-collector-locks'),
      symbols: config.symbols,
      maxSymbolsPerConnection: config.maxSymbolsPerConnection,
      clock,
      log,
      hooks: { acquired: session.acquired, release: session.release, lost: session.lost },
    });
    cluster.start();
  } else log.info({ component: 'cluster' }, 'embedded database: one collector, no shard locks');

  // Every committed candle and gap to NATS JetStream (src/publish): off the trade path, from the database.
  if (nats.url) {
    const held = cluster ? () => cluster!.heldShards() : null;
    publisher = await startPublisher({
      url: nats.url,
      config,
      pool: database.embedded ? pool : database.extraPool('tick-collector-publish'),
      embedded: database.embedded,
      held,
      log,
      clock,
    });
    const p = publisher;
    sink.onCommit((n) => p.notice(n));
    gapOpens = watchGapOpens(
      () => feedStats.connections,
      (symbols, at, reason) => p.gapOpened(symbols, at, reason),
    );
  }

  const done = runScheduler({
    statusAt,
    clock,
    signal: abort.signal,
    skipMarketHours: config.skipMarketHours,
    log,
    runSession: session.run,
    stats: schedulerStats,
    leadMs: config.sessionLeadMs,
    tailMs: config.sessionTailMs,
  });

  // News gets its own connection in production so it never takes one the candle writer needs
  // (the embedded database is one session: there it shares).
  const newsPool = newsStats && !database.embedded ? database.extraPool('tick-collector-news') : pool;
  const news = newsStats
    ? runNewsPoller({
        feeds: config.rssFeeds,
        symbols: config.symbols,
        intervalMs: config.rssPollIntervalMs,
        timeoutMs: config.rssTimeoutMs,
        db: newsPool,
        clock,
        signal: abort.signal,
        log,
        stats: newsStats,
      })
    : Promise.resolve();

  // Partitions ahead, retention, the 1m history: at start-up and daily, on its own connection.
  startMaintenance({
    pool: database.embedded ? pool : database.extraPool('tick-collector-storage'),
    clock,
    log,
    signal: abort.signal,
    retention: {
      candles_1s: config.retention1sDays,
      ticks: config.retentionTicksDays,
      candles_100t: config.retention100tDays,
    },
  });

  const watchdog = startWatchdog({
    stallMs: config.watchdogStallMs,
    blockMs: config.eventLoopBlockMs,
    // Anything the loops do counts: frames, pongs (a quiet market sends no trades), connection attempts,
    // database batches and retries. A wedged loop moves none of them.
    progress: () =>
      feedStats.messages +
      feedStats.pongs +
      feedStats.connectAttempts +
      sink.stats.batches +
      sink.stats.retries +
      (cluster?.stats.rounds ?? 0),
    // A feed waiting out a backoff (an auth failure waits minutes) is not wedged; but one chunk in backoff
    // must not blind the watchdog to the others.
    collecting: () =>
      collecting() &&
      !(feedStats.connections.length > 0 && feedStats.connections.every((c) => c.state === 'backoff')),
    onFatal: deps.onFatal,
  });

  let stopping: Promise<SinkSummary | null> | null = null;
  const stop: Collector['stop'] = (deadlineMs, step = (_n, fn) => fn()) => {
    stopping ??= (async () => {
      const started = clock.now();
      watchdog.stop();
      abort.abort();
      // The feed stops at once on abort; a session still waiting on a database read (a black-holed link)
      // must not eat the deadline the sink needs, so this wait is bounded.
      const quick = Math.min(2_000, deadlineMs / 4);
      await step('stop feed and scheduler', () => boundedWait(done, quick, clock));
      clearInterval(flushTimer);
      progress.stop();
      await step('drain aggregators', async () => aggs.drain());
      // Every held trade is in a pushed row now: the last checkpoint (its end applies once they commit).
      ledger.checkpoint();
      // Leave a second of the deadline for closing the pool and the embedded database.
      const left = Math.max(500, deadlineMs - (clock.now() - started) - 1_000);
      const summary = await step('drain sink', () => sink.stop(left));
      // What the database confirmed is written as coverage; whatever it did not is a gap by construction.
      await step('ledger', () => boundedWait(ledger.stop(summary.lostRows === 0), 1_500, clock));
      // Every candle and gap committed is published before the shards (and their positions) are let go.
      // The rest of the deadline less what releasing the shards and closing need.
      const publishLeft = Math.max(1_500, deadlineMs - (clock.now() - started) - 3_000);
      if (publisher)
        await step('publish', () => boundedWait(publisher!.stop(publishLeft), publishLeft + 500, clock));
      // Only now (every candle written under our locks) are the shards let go.
      if (cluster) await step('release shards', () => boundedWait(cluster!.stop(), 2_000, clock));
      await step('overnight backfill', () => boundedWait(gapKeeper.stop(), 500, clock));
      // News holds no candles: whatever it has not stored is fetched again next time.
      await step('stop news', () => boundedWait(news, 500, clock));
      // pool.end() waits for checked-out clients, which a black-holed link never returns: bounded, so the
      // summary line still gets written and the exit code reflects the drain, not the hang.
      const closeLeft = Math.max(200, deadlineMs - (clock.now() - started) - 200);
      await step('close database', () => boundedWait(database.close(), closeLeft, clock));
      await Promise.allSettled(cleanups.reverse().map((c) => c()));
      eventLoop.stop();
      return summary;
    })();
    return stopping;
  };

  return { done, stop };
}

/** Waits for `p` (ignoring its outcome) at most `ms`. */
async function boundedWait(p: Promise<unknown>, ms: number, clock: Clock): Promise<void> {
  const timer = new AbortController();
  await Promise.race([p.catch(() => undefined), clock.sleep(ms, timer.signal)]);
  timer.abort();
}
