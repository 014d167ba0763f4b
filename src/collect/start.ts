// The collecting part as the daemon starts it (startCollect).
// Trade rules and aggregators (every candle tagged by the ledger, then pushed to the sink), the flush tick,
// and the session runner that runs the feed per session and shard.
import { Aggregators } from '../aggregate/aggregator.js';
import { ConditionRules } from '../aggregate/conditions.js';
import { SecondAggregator } from '../aggregate/secondAggregator.js';
import { TickAggregator } from '../aggregate/tickAggregator.js';
import type { Trade } from '../aggregate/types.js';
import { statusAt } from '../calendar/index.js';
import type { Clock } from '../clock.js';
import type { ShardManager } from '../cluster/lockManager.js';
import type { Config } from '../config/load.js';
import { Pacer } from '../feed/pacer.js';
import { arrivalCounter, runFeed } from '../feed/runFeed.js';
import type { FeedStats } from '../feed/stats.js';
import { feedTimings } from '../feed/timings.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Logger } from '../log/logger.js';
import type { Database } from '../store/database.js';
import { loadOpenTickCandles } from '../store/read/queries.js';
import type { Sink } from '../store/sink/sink.js';
import { createLagWatch } from './lagWatch.js';
import { createSessionRunner, type SessionRunner } from './session.js';

export interface CollectDeps {
  log: Logger;
  clock: Clock;
  /** The collector's stop: ends the pacer's waits. */
  signal: AbortSignal;
  database: Database;
  sink: Sink;
  ledger: Ledger;
  feedStats: FeedStats;
  /** Where the feed connects (the simulator on loopback in local mode) and with which token. */
  feedUrl: string;
  token: string;
  /** The shard manager once started (replicas); null on the embedded database. */
  cluster: () => ShardManager | null;
}

export interface Collect {
  aggs: Aggregators<{ second: SecondAggregator; tick: TickAggregator }>;
  second: SecondAggregator;
  tick: TickAggregator;
  rules: ConditionRules;
  session: SessionRunner;
  /** The oldest trade held in memory in no pushed candle (exchange ts; +Infinity: none): the ledger's. */
  heldFrom(): number;
  /** Runs `fn` on every flush tick, after the aggregators' flush, the ledger's checkpoint and the lag watch. */
  onFlush(fn: (now: number) => void): void;
  /** Stops the flush tick (the stop drains the aggregators itself). */
  stopFlush(): void;
}

/** Symbols whose due candles one flush task writes. */
const FLUSH_SLICE = 500;
/** How often due candles are looked for (the ledger, lag and flush jobs run every 250 ms). */
const CANDLE_CHECK_MS = 50;

export function startCollect(config: Config, d: CollectDeps): Collect {
  const { log, clock, sink, ledger, feedStats } = d;
  const out = (c: Parameters<Sink['push']>[0]) => {
    ledger.tag(c);
    sink.push(c);
  };
  const second = new SecondAggregator(
    {
      intervalMs: config.candleIntervalMs,
      graceMs: config.candleGraceMs,
      latenessMs: config.candleLatenessMs,
      symbols: config.symbols.length,
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

  // Idle symbols close their candles on the collector's clock, not only when a later trade arrives.
  const lagWatch = createLagWatch(log, aggs.clock!);
  const flushJobs: ((now: number) => void)[] = [];
  // Candles due are written FLUSH_SLICE symbols at a time, the rest after the event loop has turned
  // (setImmediate): at 5,000 symbols a second's candles come due together, and written at once they were one
  // ~10 ms task the sockets and timers waited behind. One chain of slices at a time.
  let flushing = true;
  let chained = false;
  const flushRest = (): void => {
    chained = flushing && aggs.flush(clock.now(), FLUSH_SLICE);
    if (chained) setImmediate(flushRest);
  };
  // Due candles are looked for every CANDLE_CHECK_MS (nothing due costs one look at the wake queue): at the
  // 250 ms of the other jobs a candle waited 125 ms on average between coming due and being written, and a
  // strategy reading it live (NATS, the page) waited with it.
  const candleTimer = setInterval(
    () => {
      if (!chained) flushRest();
    },
    Math.min(CANDLE_CHECK_MS, config.sinkFlushMs),
  );
  const flushTimer = setInterval(
    () => {
      if (!chained) flushRest();
      ledger.checkpoint();
      lagWatch();
      for (const job of flushJobs) job(clock.now());
    },
    Math.min(250, config.sinkFlushMs),
  );

  const feedSeq = arrivalCounter(feedStats, clock.now());
  // One pacer for every per-shard run: the turn budget and the sink hold are the process's, not a shard's.
  const feedPacer = new Pacer({
    turnBudgetMs: feedTimings(config).turnBudgetMs,
    holdCheckMs: feedTimings(config).holdCheckMs,
    backlog: () => (sink.stats.connected ? sink.stats.bufferedRows / config.sinkMaxBufferRows : 0),
    clock,
    stats: feedStats,
    signal: d.signal,
  });
  const { pool, embedded } = d.database;
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
    ...(embedded
      ? {}
      : {
          shards: { held: () => d.cluster()?.heldShards() ?? [] },
          candlesSettled: () => sink.candlesSettled(),
        }),
    runFeed: ({ close, signal }, onTrade, shard) =>
      runFeed({
        url: d.feedUrl,
        token: d.token,
        symbols: shard?.symbols ?? config.symbols,
        // One run per shard at once: they share one arrival counter, or their seqs would collide.
        ...(shard ? { shardOfMany: d.cluster()!.stats.shards > 1 } : {}),
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

  return {
    aggs,
    second,
    tick,
    rules,
    session,
    heldFrom: () => Math.min(aggs.heldFrom(), session.heldFrom()),
    onFlush: (fn) => {
      flushJobs.push(fn);
    },
    stopFlush: () => {
      flushing = false;
      clearInterval(candleTimer);
      clearInterval(flushTimer);
    },
  };
}
