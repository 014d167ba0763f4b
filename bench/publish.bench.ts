// Publishing to NATS under the overload bench's load (npx tsx bench/publish.bench.ts [rate]; default 400000):
// the real daemon (CLI from the sources) on 5,000 symbols fed by bench/loadGenChild.ts, into a fresh
// database, twice in one run: publishing off, then on (a private nats-server with its own store). For each,
// one JSON line: trades taken per second, event-loop p99 (the worst 1-s window of /health) and max, whether
// both candle tables hold the same trades after SIGTERM (keeps up), the database's freshness (now − the end
// of the newest stored second, sampled each second), and with publishing on the latency of each 1-second
// candle at a plain NATS subscriber (arrival − the end of its second: the grace, the sink's flush, the
// round), p50/p99/max, and the publisher's counters.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { createPool, endPool } from '../src/store/db/connection.js';

const URL_ = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SYMBOLS = Array.from({ length: 5_000 }, (_, i) => `S${String(i).padStart(4, '0')}`);
const rate = Number(process.argv[2] ?? 400_000);
const NATS_PORT = 14_222 + (process.pid % 1000);

const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function startNats(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tc-bench-nats-'));
  const p = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(NATS_PORT), '-js', '-sd', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    p.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Server is ready')) resolve();
    });
    p.once('exit', (c) => reject(new Error(`nats-server exited ${c}: ${err}`)));
  });
  return {
    url: `nats://127.0.0.1:${NATS_PORT}`,
    stop: async () => {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function run(feedUrl: string, natsUrl: string | null): Promise<void> {
  const db = `tc_bench_publish_${process.pid}_${natsUrl ? 'on' : 'off'}`;
  const root = createPool({ url: URL_, max: 1 });
  await root.query(`CREATE DATABASE ${db}`);
  const dbUrl = new URL(URL_);
  dbUrl.pathname = `/${db}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tc-bench-publish-'));
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', cli, 'run', '--skip-market-hours'], {
    env: {
      ...process.env,
      EODHD_WS_URL: feedUrl,
      EODHD_API_TOKEN: 'bench',
      DATABASE_URL: dbUrl.toString(),
      SYMBOLS: SYMBOLS.join(','),
      PORT: '0',
      LOG_FORMAT: 'json',
      BACKFILL: 'off',
      ENABLE_RSS_NEWS: 'false',
      DATA_DIR: dataDir,
      NATS_URL: natsUrl ?? 'off',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let port = 0;
  proc.stdout!.on('data', (d: Buffer) => {
    for (const l of d.toString('utf8').split('\n')) {
      if (port === 0 && l.includes('"component":"http"') && l.includes('"port"')) {
        port = (JSON.parse(l) as { port: number }).port;
      }
    }
  });
  const health = async () =>
    (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {
      feed: { trades: number; subscribedSymbols: number };
      eventLoop: { delayP99Ms: number; maxDelayMs: number };
      sink: { spooledRows: number };
      publish: { state: string; published: number; pending: number; failed: number };
    };
  const pool = createPool({ url: dbUrl.toString(), max: 1 });
  const nc = natsUrl ? await connect({ servers: natsUrl }) : null;
  let measuring = false;
  const latencies: number[] = [];
  if (nc) {
    nc.subscribe('candles.1s.>', {
      callback: (_err, m) => {
        if (!measuring) return;
        const bucket = Date.parse((m.json() as { bucket: string }).bucket);
        latencies.push(Date.now() - (bucket + 1_000));
      },
    });
  }
  try {
    while (port === 0) await sleep(100);
    for (let i = 0; i < 300 && (await health()).feed.subscribedSymbols < SYMBOLS.length; i++)
      await sleep(100);
    await sleep(10_000); // a whole monitor window after the start-up work
    const h0 = await health();
    const t0 = performance.now();
    measuring = true;
    const p99s: number[] = [];
    const fresh: number[] = [];
    for (let i = 0; i < SECONDS; i++) {
      await sleep(1000);
      p99s.push((await health()).eventLoop.delayP99Ms);
      const r = await pool.query<{ ms: string | null }>(
        "SELECT (extract(epoch FROM now() - max(bucket) - interval '1 second') * 1000)::text AS ms FROM candles_1s",
      );
      if (r.rows[0]!.ms !== null) fresh.push(Number(r.rows[0]!.ms));
    }
    measuring = false;
    const h1 = await health();
    const secs = (performance.now() - t0) / 1000;
    proc.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    const n = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);
    const s1 = await n('SELECT coalesce(sum(trade_count), 0) AS n FROM candles_1s');
    const t100 = await n('SELECT coalesce(sum(trade_count), 0) AS n FROM candles_100t');
    emit({
      bench: 'publish',
      publishing: natsUrl !== null,
      rate,
      symbols: SYMBOLS.length,
      seconds: SECONDS,
      takenPerSec: Math.round((h1.feed.trades - h0.feed.trades) / secs),
      eventLoopP99Ms: Math.max(...p99s),
      eventLoopMaxMs: h1.eventLoop.maxDelayMs,
      spooledRows: h1.sink.spooledRows,
      exitCode: code,
      keepsUp: s1 === t100 && s1 > 0 && h1.sink.spooledRows === 0,
      dbFreshnessP50Ms: quantile(fresh, 0.5),
      dbFreshnessMaxMs: fresh.length ? Math.max(...fresh) : null,
      ...(natsUrl
        ? {
            natsCandles: latencies.length,
            natsLatencyP50Ms: quantile(latencies, 0.5),
            natsLatencyP99Ms: quantile(latencies, 0.99),
            natsLatencyMaxMs: latencies.length ? Math.max(...latencies) : null,
            published: h1.publish.published,
            publishFailed: h1.publish.failed,
            publishPendingAtEnd: h1.publish.pending,
          }
        : {}),
    });
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await nc?.close();
    await endPool(pool);
    await root.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await endPool(root);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const child: ChildProcess = fork(
  fileURLToPath(new URL('./loadGenChild.ts', import.meta.url)),
  [String(rate)],
  {
    execArgv: ['--import', 'tsx'],
  },
);
const feedUrl = await new Promise<string>((resolve, reject) => {
  child.once('message', (m) => resolve((m as { url: string }).url));
  child.once('error', reject);
});
const nats = await startNats();
try {
  await run(feedUrl, null);
  await run(feedUrl, nats.url);
} finally {
  child.disconnect();
  await nats.stop();
}
