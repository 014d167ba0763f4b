// The real daemon under a bench's load (not a bench itself: no .bench.ts suffix).
// runDaemon starts the CLI from the sources on a fresh database with the given feed, optionally publishing
// to NATS, waits until every symbol is subscribed and a whole monitor window has passed, then measures for
// `seconds`: trades taken per second beside what the generator offered and could write, the event-loop p99
// (the worst 1-s window of /health, sampled each second), the database's freshness, the peak RSS, and with
// NATS the latency of each 1-second candle at a plain subscriber (arrival − the end of its second). After
// SIGTERM: whether both candle tables hold the same trades (keeps up). startNats runs a private nats-server
// with its own store; startLoadGen the trade generator.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { createPool, endPool } from '../src/store/db/connection.js';
import { cpuWindow } from './cpu.js';

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const quantile = (xs: number[], q: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** bench/loadGenChild.ts offering `rate` trades/s, and the URL it listens on. */
export async function startLoadGen(rate: number): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(fileURLToPath(new URL('./loadGenChild.ts', import.meta.url)), [String(rate)], {
    execArgv: ['--import', 'tsx'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('error', reject);
  });
  return { child, url };
}

export interface GenStats {
  offered: number;
  sent: number;
  skipped: number;
}

/** The load generator's counters (bench/loadGenChild.ts answers 'stats'). */
export function askGenerator(child: ChildProcess): Promise<GenStats> {
  return new Promise((resolve) => {
    const on = (m: { stats?: GenStats }) => {
      if (!m.stats) return;
      child.off('message', on);
      resolve(m.stats);
    };
    child.on('message', on);
    child.send({ cmd: 'stats' });
  });
}

/** A process's resident set (MB), from /proc: the daemon's own, threads included. */
function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
}

export async function startNats(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tc-bench-nats-'));
  const port = 14_222 + (process.pid % 1000);
  const p = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
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
    url: `nats://127.0.0.1:${port}`,
    pid: p.pid!,
    stop: async () => {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Health {
  feed: {
    trades: number;
    subscribedSymbols: number;
    lagP99Ms: number | null;
    backpressure: { sinkHolds: number; sinkHeldMs: number; loopPauses: number; loopPausedMs: number };
  };
  eventLoop: { delayP99Ms: number; maxDelayMs: number };
  aggregate: { backlogWaits: number };
  sink: { spooledRows: number };
  publish: { state: string; published: number; pending: number; failed: number } | null;
}

export interface DaemonRun {
  feedUrl: string;
  symbols: readonly string[];
  seconds: number;
  /** null: NATS_URL=off. */
  natsUrl: string | null;
  label: string;
  /** The load generator feeding it: its offer and what it could send are reported beside what was taken. */
  gen?: ChildProcess;
  /** The nats-server's pid: its CPU is reported with the rest. */
  natsPid?: number;
}

export async function runDaemon(r: DaemonRun): Promise<Record<string, unknown>> {
  const db = `tc_bench_${r.label}_${process.pid}`;
  const root = createPool({ url: DATABASE_URL, max: 1 });
  await root.query(`CREATE DATABASE ${db}`);
  const dbUrl = new URL(DATABASE_URL);
  dbUrl.pathname = `/${db}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tc-bench-daemon-'));
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  // DAEMON_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof': flags of the daemon's own node, not the bench's.
  const nodeArgs = process.env.DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', cli, 'run', '--skip-market-hours'], {
    env: {
      ...process.env,
      EODHD_WS_URL: r.feedUrl,
      EODHD_API_TOKEN: 'bench',
      DATABASE_URL: dbUrl.toString(),
      SYMBOLS: r.symbols.join(','),
      PORT: '0',
      LOG_FORMAT: 'json',
      BACKFILL: 'off',
      ENABLE_RSS_NEWS: 'false',
      DATA_DIR: dataDir,
      NATS_URL: r.natsUrl ?? 'off',
      NATS_STREAM: `BENCH${process.pid}${r.label.toUpperCase()}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let port = 0;
  // DAEMON_STDOUT=FILE keeps the daemon's output (its log, and e.g. --trace-gc's lines) for a look afterwards.
  const keep = process.env.DAEMON_STDOUT
    ? createWriteStream(process.env.DAEMON_STDOUT, { flags: 'a' })
    : null;
  proc.stdout!.once('end', () => keep?.end());
  proc.stdout!.on('data', (d: Buffer) => {
    keep?.write(d);
    for (const l of d.toString('utf8').split('\n')) {
      if (port === 0 && l.includes('"component":"http"') && l.includes('"port"')) {
        port = (JSON.parse(l) as { port: number }).port;
      }
    }
  });
  const health = async () => (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Health;
  const pool = createPool({ url: dbUrl.toString(), max: 1 });
  const nc = r.natsUrl ? await connect({ servers: r.natsUrl }) : null;
  let measuring = false;
  const latencies: number[] = [];
  nc?.subscribe('candles.1s.>', {
    callback: (_err, m) => {
      if (!measuring) return;
      const bucket = Date.parse((m.json() as { bucket: string }).bucket);
      latencies.push(Date.now() - (bucket + 1_000));
    },
  });
  try {
    while (port === 0) await sleep(100);
    for (let i = 0; i < 300 && (await health()).feed.subscribedSymbols < r.symbols.length; i++)
      await sleep(100);
    await sleep(10_000); // a whole monitor window after the start-up work
    const g0 = r.gen ? await askGenerator(r.gen) : null;
    const h0 = await health();
    const t0 = performance.now();
    const cpu = cpuWindow({ daemon: proc.pid!, nats: r.natsPid, generator: r.gen?.pid });
    measuring = true;
    const p99s: number[] = [];
    const fresh: number[] = [];
    let rss = 0;
    for (let i = 0; i < r.seconds; i++) {
      await sleep(1000);
      const h = await health();
      p99s.push(h.eventLoop.delayP99Ms);
      rss = Math.max(rss, rssMB(proc.pid!));
      const q = await pool.query<{ ms: string | null }>(
        "SELECT (extract(epoch FROM now() - max(bucket) - interval '1 second') * 1000)::text AS ms FROM candles_1s",
      );
      if (q.rows[0]!.ms !== null) fresh.push(Number(q.rows[0]!.ms));
    }
    measuring = false;
    const cpuShares = cpu();
    const h1 = await health();
    const secs = (performance.now() - t0) / 1000;
    const g1 = r.gen ? await askGenerator(r.gen) : null;
    proc.kill('SIGTERM');
    const code = await new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
    const n = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);
    const s1 = await n('SELECT coalesce(sum(trade_count), 0) AS n FROM candles_1s');
    const t100 = await n('SELECT coalesce(sum(trade_count), 0) AS n FROM candles_100t');
    const per = (k: keyof GenStats) => (g0 && g1 ? Math.round((g1[k] - g0[k]) / secs) : null);
    return {
      // What the generator offered, could write (a reader behind by 16 MB gets nothing: skipped) and what was
      // taken: when `sentPerSec` is far below the offer, the generator itself lacked CPU (it shares the cores).
      offeredPerSec: per('offered'),
      sentPerSec: per('sent'),
      takenPerSec: Math.round((h1.feed.trades - h0.feed.trades) / secs),
      eventLoopP99Ms: Math.max(...p99s),
      eventLoopMaxMs: h1.eventLoop.maxDelayMs,
      feedLagP99Ms: h1.feed.lagP99Ms,
      // Reading held over the window: for the sink's backlog, and for a turn over its budget (ms).
      heldForSinkMs: Math.round(h1.feed.backpressure.sinkHeldMs - h0.feed.backpressure.sinkHeldMs),
      pausedForLoopMs: Math.round(h1.feed.backpressure.loopPausedMs - h0.feed.backpressure.loopPausedMs),
      // Looks at candles that waited for their trades (a backlog being read), over the window.
      backlogWaits: h1.aggregate.backlogWaits - h0.aggregate.backlogWaits,
      peakRssMB: rss || null,
      spooledRows: h1.sink.spooledRows,
      exitCode: code,
      keepsUp: s1 === t100 && s1 > 0 && h1.sink.spooledRows === 0,
      dbFreshnessP50Ms: quantile(fresh, 0.5),
      dbFreshnessMaxMs: fresh.length ? Math.max(...fresh) : null,
      // Each part's CPU over the window, in cores (the machine has two).
      cpu: cpuShares,
      ...(r.natsUrl
        ? {
            natsCandles: latencies.length,
            natsLatencyP50Ms: quantile(latencies, 0.5),
            natsLatencyP99Ms: quantile(latencies, 0.99),
            natsLatencyMaxMs: latencies.length ? Math.max(...latencies) : null,
            published: h1.publish?.published ?? null,
            publishFailed: h1.publish?.failed ?? null,
            publishPendingAtEnd: h1.publish?.pending ?? null,
          }
        : {}),
    };
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await nc?.close();
    await endPool(pool);
    await root.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await endPool(root);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
