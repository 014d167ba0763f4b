// The daemon's table of contents (runCollector): each part started in order, stopped in reverse.
// The daemon's table of contents: start-up in order, stop in reverse, each part built by its own folder's
// start function (health port → database → sink → ledger → page → feed and aggregators → cluster → publisher
// → scheduler → news, maintenance, watchdog). One object with start-up done and an idempotent stop().
import { startGapKeeper } from '../backfill/daemon.js';
import { simTapeFile } from '../backfill/index.js';
import { statusAt } from '../calendar/index.js';
import type { Clock } from '../clock.js';
import { writeFence } from '../cluster/fence.js';
import type { ShardManager } from '../cluster/lockManager.js';
import { startCluster } from '../cluster/startCluster.js';
import { type Collect, startCollect } from '../collect/start.js';
import type { Config } from '../config/load.js';
import { type SimServer, startSimServer } from '../feed/sim/server.js';
import { createFeedStats } from '../feed/stats.js';
import { pageUrl } from '../http/pageUrl.js';
import type { HttpServer } from '../http/server.js';
import { bindHealthPort, serveHealth } from '../http/start.js';
import { startRunLedger } from '../ledger/start.js';
import type { Logger } from '../log/logger.js';
import { newsStatsFor, startNews } from '../news/start.js';
import { startEventLoopMonitor } from '../ops/eventLoop.js';
import { startWatchdog } from '../ops/watchdog.js';
import { watchGapOpens } from '../publish/gapWatch.js';
import { publishTarget, startPublisher } from '../publish/start.js';
import type { PublisherHandle } from '../publish/thread.js';
import { createSchedulerStats, runScheduler } from '../scheduler/index.js';
import { type Database, openMigrated } from '../store/database.js';
import type { SinkSummary } from '../store/sink/sink.js';
import { startSink, startStorageMaintenance } from '../store/start.js';
import type { Asset } from '../web/assets.js';
import { startStartingPage, startWebUi } from '../web/start.js';
import { logStarting } from './diagnostics.js';
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
  const http = await bindHealthPort(config, log, starting);
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
  const parts = { log, clock, signal: abort.signal };
  // Parts built later (the cluster needs the session's hooks, the publisher NATS, the feed runner the ledger),
  // read through these from the start.
  let cluster: ShardManager | null = null;
  let publisher: PublisherHandle | null = null;
  let collect: Collect | null = null;

  // The sink (src/store): every row to the database, fenced by the cluster's write fence on replicas.
  const sink = startSink(config, database, {
    log,
    clock,
    fence: () => writeFence(cluster?.fencePid() ?? -1),
  });
  cleanups.push(() => sink.stop(1_000));
  // The ledger (src/ledger): coverage advances only by what the sink's commit notice confirms; every gap is
  // derived from it. Built before the aggregators so that every candle row is tagged.
  const feedStats = createFeedStats();
  const ledger = await startRunLedger(config, database, {
    log,
    clock,
    startedAt,
    sink,
    connections: () => feedStats.connections,
    heldFrom: () => collect?.heldFrom() ?? Number.POSITIVE_INFINITY,
  });
  cleanups.push(() => ledger.stop(false));
  // The page (src/web): its live stream hears of candles from the commit notice, as the publisher does.
  const web = startWebUi(
    sink,
    config,
    database,
    log,
    () => snapshot(clock.now()),
    () => feedStats,
    assets,
  );
  const nats = await publishTarget(config);

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
  // The feed, the aggregators and the session runner (src/collect), with the flush tick.
  collect = startCollect(config, {
    ...parts,
    database,
    sink,
    ledger,
    feedStats,
    feedUrl: sim ? sim.url : config.eodhdWsUrl,
    token: sim ? 'local' : (config.eodhdApiToken ?? ''),
    cluster: () => cluster,
  });
  const { aggs, session, stopFlush } = collect;

  const schedulerStats = createSchedulerStats();
  const newsStats = newsStatsFor(config);
  const eventLoop = startEventLoopMonitor();
  cleanups.push(() => eventLoop.stop());
  const collecting = () => schedulerStats.state === 'collecting';
  // /health, /metrics, /readyz and the page (src/http).
  const snapshot = serveHealth(http, config, {
    clock,
    startedAt,
    database,
    feedStats,
    collect,
    sink,
    ledger,
    news: newsStats,
    eventLoop,
    collecting,
    cluster: () => cluster,
    publisher: () => publisher,
    web,
  });
  logStarting(log, config, clock.now(), pageUrl(http.port), database.target, [nats.banner]);

  const progress = startProgress({
    log,
    everyMs: config.mode === 'local' ? 5_000 : 60_000,
    clock,
    feed: feedStats,
    sink: sink.stats,
    active: () => collecting() || config.mode === 'local',
  });
  // The overnight backfill (src/backfill).
  const gapKeeper = startGapKeeper(config, {
    pool,
    clock,
    log,
    waiting: () => schedulerStats.state === 'waiting',
    apiUrl: sim ? sim.apiUrl : config.eodhdApiUrl,
    signal: abort.signal,
  });
  cleanups.push(() => gapKeeper.stop());
  // Replicas share the symbols through PostgreSQL: shard locks on a session of their own (src/cluster).
  cluster = await startCluster(config, database, {
    clock,
    log,
    hooks: { acquired: session.acquired, release: session.release, lost: session.lost },
  });

  // Every committed candle and gap to NATS JetStream (src/publish): off the trade path, from the database.
  if (nats.url) {
    const held = cluster ? () => cluster!.heldShards() : null;
    publisher = await startPublisher({
      url: nats.url,
      config,
      pool,
      poolOptions: database.extraPoolOptions('tick-collector-publish'),
      held,
      log,
      clock,
    });
    const p = publisher;
    sink.onCommit((n) => p.notice(n));
    collect.onFlush(
      watchGapOpens(
        () => feedStats.connections,
        (symbols, at, reason) => p.gapOpened(symbols, at, reason),
      ),
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
  const news = startNews(config, database, newsStats, parts);
  startStorageMaintenance(config, database, parts);

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
      stopFlush();
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
