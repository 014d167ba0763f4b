// The pipeline under load and overload, beside a bare client in the same run (npx tsx bench/overload.bench.ts
// [rate…]; default 400000 840000). 5,000 symbols over 100 sockets of 50, fed by bench/loadGenChild.ts on
// its own core. For each rate, one JSON line per client, each measured over the same window length:
//  - bare: plain `ws` clients that JSON.parse and count every frame: the floor any client pays;
//  - pipeline: runFeed (backpressure on) → Aggregators (1 s + 100-tick) → Sink → PostgreSQL (a schema of its
//    own, dropped at the end), wired as src/collect/start.ts wires them. After the window the feed stops,
//    the aggregators drain and the sink drains; `stored` counts the trades in the tables;
//  - collector: the real daemon (CLI from the sources, shards, the coverage ledger and publishing to a private
//    NATS all on: bench/daemon.ts) into a fresh database, measured from its own /health; after SIGTERM both
//    candle tables must hold the same trades.
// BENCH_ARCHIVE_TICKS=1 also stores every trade in `ticks` (COPY): a sink that cannot keep up, so reading is
// held for it. BENCH_UNPACED=1 adds the pipeline with backpressure off (no turn budget, no sink hold): the code before it.
// Fields: offered/taken trades per second (the generator's offer to these sockets vs frames received),
// eventLoopP99Ms/MaxMs (perf_hooks monitorEventLoopDelay at 10 ms, less the 10 ms: how late its timer ran), peak RSS and heap, and for the
// pipeline the backpressure it applied and whether every trade taken reached both candle tables.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { Aggregators } from '../src/aggregate/aggregator.js';
import { SecondAggregator } from '../src/aggregate/secondAggregator.js';
import { TickAggregator } from '../src/aggregate/tickAggregator.js';
import { systemClock } from '../src/clock.js';
import { runFeed } from '../src/feed/runFeed.js';
import { createFeedStats, lagQuantile } from '../src/feed/stats.js';
import { feedTimings } from '../src/feed/timings.js';
import { nullLogger } from '../src/log/logger.js';
import { lateness } from '../src/ops/eventLoop.js';
import { createPool, endPool } from '../src/store/db/connection.js';
import { migrate } from '../src/store/schema/migrate.js';
import { Sink } from '../src/store/sink/sink.js';
import { askGenerator as ask, runDaemon, startNats } from './daemon.js';

const URL_ = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SYMBOLS = Array.from({ length: 5_000 }, (_, i) => `S${String(i).padStart(4, '0')}`);
const PER_SOCKET = 50;
const chunks = Array.from({ length: SYMBOLS.length / PER_SOCKET }, (_, i) =>
  SYMBOLS.slice(i * PER_SOCKET, (i + 1) * PER_SOCKET),
);
const rates = process.argv.slice(2).map(Number).filter(Number.isFinite);
if (rates.length === 0) rates.push(400_000, 840_000);

const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number) => Math.round(b / 1e5) / 10;

/** Runs `window` for SECONDS with an event-loop histogram and a memory sampler around it. */
async function measure(child: ChildProcess, taken: () => number) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  let rss = 0;
  let heap = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 100);
  const g0 = await ask(child);
  const n0 = taken();
  const t0 = performance.now();
  h.enable();
  await sleep(SECONDS * 1000);
  h.disable();
  const secs = (performance.now() - t0) / 1000;
  const n = taken() - n0;
  const g1 = await ask(child);
  clearInterval(sampler);
  return {
    offeredPerSec: Math.round((g1.offered - g0.offered) / secs),
    takenPerSec: Math.round(n / secs),
    skippedByServerPerSec: Math.round((g1.skipped - g0.skipped) / secs),
    // How late the histogram's timer ran, as /health reports it (src/ops/eventLoop.ts).
    eventLoopP99Ms: lateness(h.percentile(99), 10),
    eventLoopMaxMs: lateness(h.max, 10),
    peakRssMB: mb(rss),
    peakHeapMB: mb(heap),
  };
}

async function bare(child: ChildProcess, url: string, rate: number): Promise<void> {
  let n = 0;
  const sockets = await Promise.all(
    chunks.map(
      (c) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${url}?api_token=bench`, { perMessageDeflate: false });
          ws.on('error', reject);
          ws.on('open', () => {
            ws.send(JSON.stringify({ action: 'subscribe', symbols: c.join(',') }));
            resolve(ws);
          });
          ws.on('message', (d) => {
            const m = JSON.parse((d as Buffer).toString('utf8')) as { s?: string };
            if (m.s !== undefined) n++;
          });
        }),
    ),
  );
  await sleep(1000); // subscribed and streaming
  const r = await measure(child, () => n);
  for (const ws of sockets) ws.terminate();
  emit({
    bench: 'overload',
    client: 'bare',
    rate,
    symbols: SYMBOLS.length,
    sockets: chunks.length,
    seconds: SECONDS,
    ...r,
  });
}

async function pipeline(child: ChildProcess, url: string, rate: number, paced = true): Promise<void> {
  const schema = `tc_bench_overload_${process.pid}`;
  const root = createPool({ url: URL_, max: 1 });
  await root.query(`CREATE SCHEMA ${schema}`);
  const pool = createPool({ url: URL_, searchPath: schema, max: 4, applicationName: 'tick-collector-bench' });
  const dataDir = mkdtempSync(join(tmpdir(), 'tc-bench-overload-'));
  try {
    await migrate(pool);
    const maxBufferRows = 200_000;
    const archiveTicks = process.env.BENCH_ARCHIVE_TICKS === '1';
    const sink = new Sink({ pool, dataDir, maxBufferRows, archiveTicks });
    const out = (c: Parameters<Sink['push']>[0]) => sink.push(c);
    const second = new SecondAggregator({}, out);
    const tick = new TickAggregator({}, out);
    const aggs = new Aggregators({ second, tick });
    const stats = createFeedStats();
    const ac = new AbortController();
    let aggregated = 0;
    const done = runFeed({
      url,
      token: 'bench',
      symbols: SYMBOLS,
      maxSymbolsPerConnection: PER_SOCKET,
      timings: {
        ...feedTimings({
          heartbeatIntervalMs: 15_000,
          feedDataStaleMs: 120_000,
          reconnectBaseMs: 1_000,
          reconnectMaxMs: 60_000,
          authFailureBackoffMs: 300_000,
        }),
        ...(paced ? {} : { turnBudgetMs: Number.POSITIVE_INFINITY }),
      },
      ...(paced
        ? { backlog: () => (sink.stats.connected ? sink.stats.bufferedRows / maxBufferRows : 0) }
        : {}),
      deadline: null,
      signal: ac.signal,
      clock: systemClock,
      log: nullLogger(),
      onTrade: (t) => {
        aggregated++;
        if (archiveTicks) sink.pushTick(t);
        aggs.add(t);
      },
      onGap: (g) => sink.pushGap(g),
      stats,
    });
    const flush = setInterval(() => aggs.flush(Date.now()), 250);
    await sleep(1000);
    const r = await measure(child, () => stats.trades);
    const socketsSubscribed = stats.connections.filter((c) => c.state === 'subscribed').length;
    ac.abort();
    await done;
    clearInterval(flush);
    aggs.drain();
    const t0 = performance.now();
    const summary = await sink.stop(120_000);
    const drainS = (performance.now() - t0) / 1000;
    const sum = async (table: string) =>
      Number((await pool.query(`SELECT coalesce(sum(trade_count), 0) AS n FROM ${table}`)).rows[0].n);
    const stored1s = await sum('candles_1s');
    const stored100t = await sum('candles_100t');
    emit({
      bench: 'overload',
      client: paced ? 'pipeline' : 'pipeline-unpaced',
      archiveTicks,
      rate,
      symbols: SYMBOLS.length,
      sockets: chunks.length,
      seconds: SECONDS,
      ...r,
      socketsSubscribed,
      feedLagP99Ms: lagQuantile(stats.lag, 0.99),
      loopPauses: stats.loopPauses,
      sinkHolds: stats.sinkHolds,
      sinkHeldMs: stats.sinkHeldMs,
      tradesTaken: stats.trades,
      storedIn1s: stored1s,
      storedIn100t: stored100t,
      lateDropped: second.stats.lateDropped,
      everyTradeStored: stored1s === aggregated - second.stats.lateDropped && stored100t === aggregated,
      storedTicks: archiveTicks
        ? Number((await pool.query('SELECT count(*) AS n FROM ticks')).rows[0].n)
        : null,
      spooledRows: sink.stats.spooledRows,
      sinkDrainSeconds: Math.round(drainS * 10) / 10,
      spooledAtStop: summary.spooledAtStop,
      lostRows: summary.lostRows,
    });
  } finally {
    await endPool(pool);
    await root.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await endPool(root);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The real daemon (the CLI from the sources: shards, lock session, write fence, every part) against the same
 * generator, into a fresh database. Its event-loop p99 is its own monitor's (`/health`, a 10 s window), taken/s
 * from its trade counter; after SIGTERM both candle tables must hold the same count of trades. The pipeline
 * above missed a resume that polled the spool folder per shard: only the whole daemon shows such things.
 */
/** The real daemon, every duty on: the coverage ledger (always) and publishing to a private NATS. */
async function collector(gen: ChildProcess, url: string, rate: number, natsUrl: string): Promise<void> {
  const r = await runDaemon({
    feedUrl: url,
    symbols: SYMBOLS,
    seconds: SECONDS,
    natsUrl,
    label: 'overload',
    gen,
  });
  emit({ bench: 'overload', client: 'collector', rate, symbols: SYMBOLS.length, seconds: SECONDS, ...r });
}

const child = fork(fileURLToPath(new URL('./loadGenChild.ts', import.meta.url)), [String(rates[0])], {
  execArgv: ['--import', 'tsx'],
});
const url = await new Promise<string>((resolve, reject) => {
  child.once('message', (m) => resolve((m as { url: string }).url));
  child.once('error', reject);
});
const nats = await startNats();
try {
  for (const rate of rates) {
    child.send({ cmd: 'rate', rate });
    await bare(child, url, rate);
    await pipeline(child, url, rate);
    if (process.env.BENCH_UNPACED === '1') await pipeline(child, url, rate, false);
    await collector(child, url, rate, nats.url);
  }
} finally {
  child.disconnect();
  await nats.stop();
}
