// Feed measurements, one JSON line each (run: npx tsx bench/feed.bench.ts):
//  - half-open detection time at heartbeatIntervalMs=1000 (peer goes silent, no FIN, at a random phase)
//  - reconnect time after an abrupt drop (server-side drop → server sees the new subscribe),
//    with the default backoff base (1000 ms, full jitter) and with the smallest allowed one (10 ms)
//  - trades/s one connection takes from the sim (in a child process), and the lag p50/p99 meanwhile
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/clock.js';
import { type FeedGap, type FeedOptions, runFeed } from '../src/feed/runFeed.js';
import { createFeedStats, lagQuantile } from '../src/feed/stats.js';
import { type FeedTimings, feedTimings } from '../src/feed/timings.js';
import { nullLogger } from '../src/log/logger.js';
import { FakeEodhd, until } from '../test/helpers/wsServer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

function feedAgainst(url: string, over: Partial<FeedOptions>, timing: Partial<FeedTimings> = {}) {
  const stats = createFeedStats();
  const gaps: FeedGap[] = [];
  const ac = new AbortController();
  let trades = 0;
  const done = runFeed({
    url,
    token: 'bench',
    symbols: ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA'],
    maxSymbolsPerConnection: 50,
    timings: {
      ...feedTimings({
        heartbeatIntervalMs: 15_000,
        feedDataStaleMs: 600_000,
        reconnectBaseMs: 1000,
        reconnectMaxMs: 60_000,
        authFailureBackoffMs: 300_000,
      }),
      ...timing,
    },
    deadline: null,
    signal: ac.signal,
    clock: systemClock,
    log: nullLogger(),
    onTrade: () => {
      trades++;
    },
    onGap: (g) => gaps.push(g),
    stats,
    ...over,
  });
  const stop = () => {
    ac.abort();
    return done;
  };
  return { stats, gaps, trades: () => trades, stop };
}

async function halfOpen(samples: number): Promise<void> {
  const interval = 1000;
  const server = await FakeEodhd.start();
  const f = feedAgainst(server.url, {}, { heartbeatIntervalMs: interval, reconnectBaseMs: 10 });
  const detect: number[] = [];
  for (let i = 0; i < samples; i++) {
    await until(() => f.stats.state === 'subscribed', 10_000);
    await sleep(Math.random() * interval); // random phase against the ping timer
    const dead = f.stats.deadSockets;
    server.halfOpen = true;
    const t0 = Date.now();
    await until(() => f.gaps.length === i + 1, 10 * interval);
    server.halfOpen = false;
    detect.push(f.gaps[i]!.startedAt - t0);
    if (f.stats.deadSockets !== dead + 1) throw new Error('not detected by the heartbeat');
  }
  await f.stop();
  await server.close();
  emit({
    bench: 'feed.halfOpenDetectMs',
    heartbeatIntervalMs: interval,
    samples,
    min: Math.min(...detect),
    p50: pct(detect, 0.5),
    max: Math.max(...detect),
    bound: 2 * interval,
  });
}

async function reconnect(baseMs: number, samples: number): Promise<void> {
  const server = await FakeEodhd.start();
  const took: number[] = [];
  for (let i = 0; i < samples; i++) {
    // A fresh feed per sample: its first drop, as after a stable stretch (the backoff at its base).
    const f = feedAgainst(server.url, {}, { reconnectBaseMs: baseMs });
    const first = server.connections + 1;
    await server.waitFor(() => server.subscribesOn(first).length === 1, 10_000);
    await until(() => f.stats.state === 'subscribed', 10_000);
    const t0 = Date.now();
    server.dropAll();
    await server.waitFor(() => server.subscribesOn(first + 1).length === 1, 10 * baseMs + 5000);
    took.push(server.subscribesOn(first + 1)[0]!.at - t0);
    await f.stop();
  }
  await server.close();
  emit({
    bench: 'feed.reconnectAfterDropMs',
    reconnectBaseMs: baseMs,
    samples,
    min: Math.min(...took),
    p50: pct(took, 0.5),
    max: Math.max(...took),
    mean: Math.round(took.reduce((a, b) => a + b, 0) / took.length),
  });
}

async function throughput(rate: number, seconds: number): Promise<void> {
  const child = fork(fileURLToPath(new URL('./feedSimChild.ts', import.meta.url)), [String(rate)], {
    execArgv: ['--import', 'tsx'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('error', reject);
  });
  const f = feedAgainst(url, {});
  await until(() => f.trades() > 0, 10_000);
  const n0 = f.trades();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const n = f.trades() - n0;
  const secs = (performance.now() - t0) / 1000;
  await f.stop();
  child.disconnect();
  emit({
    bench: 'feed.simOneConnection',
    simRate: rate,
    simInChildProcess: true,
    tradesPerSec: Math.round(n / secs),
    lagP50Ms: lagQuantile(f.stats.lag, 0.5),
    lagP99Ms: lagQuantile(f.stats.lag, 0.99),
  });
}

const only = process.argv[2];
if (!only || only === 'liveness') {
  await halfOpen(5);
  await reconnect(10, 20);
  await reconnect(1000, 10);
}
if (!only || only === 'throughput') {
  await throughput(20_000, 3);
  await throughput(100_000, 3);
  await throughput(300_000, 3);
}
