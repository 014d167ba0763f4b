// Store throughput against the real server: 1s candles through the Sink (unnest upserts, 500-row batches)
// and raw ticks through COPY. Prints JSON lines; runs alone (`npx tsx bench/store.bench.ts`) in its own
// schema, dropped at the end. Floors: 50,000 candle rows/s, 200,000 ticks/s.
// Three layouts, each in a fresh schema: plain tables without the 1m rollup triggers (the cost of the
// sink alone), plain tables with them, and the partitioned tables with them (what the collector runs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { UPDATES_ALL } from '../src/aggregate/conditions.js';
import type { SecondCandle, Trade } from '../src/aggregate/types.js';
import { writeFence } from '../src/cluster/fence.js';
import { cutShards, SHARD_LOCK_CLASS } from '../src/cluster/shards.js';
import { nullLogger } from '../src/log/logger.js';
import { lateness } from '../src/ops/eventLoop.js';
import { createPool, endPool } from '../src/store/db/connection.js';
import { maintainStorage } from '../src/store/schema/maintenance.js';
import { migrate } from '../src/store/schema/migrate.js';
import { Sink } from '../src/store/sink/sink.js';
import { copyTicks, copyTicksStaged } from '../src/store/write/writeTicks.js';

const URL_ = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CANDLES = Number(process.env.BENCH_CANDLES ?? 500_000);
const TICKS = Number(process.env.BENCH_TICKS ?? 2_000_000);
const FENCE = process.env.BENCH_FENCE === '1';
const SYMBOLS = Array.from({ length: 500 }, (_, i) => `S${i}`);
const T0 = Date.UTC(2024, 6, 3, 13, 30);

function candle(i: number): SecondCandle {
  const symbol = SYMBOLS[i % SYMBOLS.length]!;
  const bucket = T0 + Math.floor(i / SYMBOLS.length) * 1000;
  return {
    kind: '1s',
    symbol,
    bucket,
    open: 100,
    high: 101,
    low: 99,
    close: 100.5,
    volume: 1000,
    tradeCount: 7,
    vwap: 100.2,
    firstTradeAt: bucket + 3,
    lastTradeAt: bucket + 990,
  };
}

function trade(i: number): Trade {
  return {
    symbol: SYMBOLS[i % SYMBOLS.length]!,
    price: 100 + (i % 100) / 100,
    size: 1 + (i % 9),
    ts: T0 + i,
    conditions: i % 3 ? [14, 41] : [],
    flags: UPDATES_ALL,
    darkPool: i % 7 === 0,
    marketStatus: 'open',
    seq: i,
    receivedAt: T0 + i + 3,
  };
}

/** Two lock sessions: ours holds the bench symbols' shards, a peer's those of 500 others; our lock pid. */
async function holdShards(schema: string): Promise<{ pid: number; end: () => Promise<void> }> {
  const others = SYMBOLS.map((s) => `P${s}`);
  const shards = cutShards([...SYMBOLS, ...others], 10, schema);
  const ours = createPool({ url: URL_, searchPath: schema, max: 1 });
  const peer = createPool({ url: URL_, searchPath: schema, max: 1 });
  const a = await ours.connect();
  const b = await peer.connect();
  await a.query(
    'INSERT INTO shard_symbols (shard_key, symbol) SELECT * FROM unnest($1::int4[], $2::text[])',
    [shards.flatMap((s) => s.symbols.map(() => s.key)), shards.flatMap((s) => s.symbols)],
  );
  for (const s of shards)
    await (s.index < 50 ? a : b).query('SELECT pg_advisory_lock($1, $2)', [SHARD_LOCK_CLASS, s.key]);
  const pid = (await a.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  return {
    pid,
    end: async () => {
      a.release(true);
      b.release(true);
      await Promise.all([endPool(ours), endPool(peer)]);
    },
  };
}

const LAYOUTS = [
  { layout: 'plain, no 1m rollup', partitioned: false, rollup: false },
  { layout: 'plain + 1m rollup', partitioned: false, rollup: true },
  { layout: 'partitioned + 1m rollup', partitioned: true, rollup: true },
];

async function main(): Promise<void> {
  for (const l of LAYOUTS) await layout(l);
}

async function layout(l: (typeof LAYOUTS)[number]): Promise<void> {
  const schema = `tc_bench_${process.pid}_${l.partitioned ? 'p' : 'h'}${l.rollup ? 'r' : ''}`;
  const root = createPool({ url: URL_, max: 1 });
  await root.query(`CREATE SCHEMA ${schema}`);
  const pool = createPool({ url: URL_, searchPath: schema, max: 4, applicationName: 'tick-collector-bench' });
  const dataDir = mkdtempSync(join(tmpdir(), 'tc-bench-'));
  try {
    await migrate(pool);
    if (l.partitioned) await maintainStorage(pool, { now: T0, log: nullLogger() });
    if (!l.rollup) await pool.query('ALTER TABLE candles_1s DISABLE TRIGGER USER');

    // Candles: pushed in bursts of one second's worth (500 symbols), as the aggregator would, while the
    // sink writes; the clock stops when every row is in the table.
    const fence = FENCE ? await holdShards(schema) : null;
    const sink = new Sink({
      pool,
      dataDir,
      maxBufferRows: CANDLES + 1,
      ...(fence ? { fence: () => writeFence(fence.pid) } : {}),
    });
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    let maxLagMs = 0;
    let last = performance.now();
    const lagTimer = setInterval(() => {
      const now = performance.now();
      maxLagMs = Math.max(maxLagMs, now - last - 10);
      last = now;
    }, 10);
    const t0 = performance.now();
    for (let i = 0; i < CANDLES; i++) {
      sink.push(candle(i));
      if (i % 5_000 === 4_999) await new Promise((r) => setImmediate(r));
    }
    const summary = await sink.stop(120_000);
    const secs = (performance.now() - t0) / 1000;
    clearInterval(lagTimer);
    loopDelay.disable();
    await fence?.end();
    const n = summary.written.candles_1s;
    const stored = Number((await pool.query('SELECT count(*) AS n FROM candles_1s')).rows[0].n);
    console.log(
      JSON.stringify({
        bench: 'store',
        case: 'sink candles',
        layout: l.layout,
        rows: n,
        stored,
        seconds: +secs.toFixed(2),
        rowsPerSec: Math.round(n / secs),
        batches: sink.stats.batches,
        maxEventLoopLagMs: Math.round(maxLagMs),
        // perf_hooks' histogram (ns): the longest and the p99 stall of the event loop while the sink wrote.
        loopDelayMaxMs: lateness(loopDelay.max, 5),
        loopDelayP99Ms: lateness(loopDelay.percentile(99), 5),
      }),
    );
    if (n !== CANDLES) throw new Error(`wrote ${n} of ${CANDLES} candles`);

    // Ticks: COPY batches of 50,000 on 2 connections at a time.
    const batch = 50_000;
    const tickLoopDelay = monitorEventLoopDelay({ resolution: 5 });
    tickLoopDelay.enable();
    const t1 = performance.now();
    let written = 0;
    const lanes = [0, 1].map(async (lane) => {
      for (let start = lane * batch; start < TICKS; start += 2 * batch) {
        const rows = Array.from({ length: Math.min(batch, TICKS - start) }, (_, k) => trade(start + k));
        const n = await copyTicks(pool, rows, 60_000);
        written += n;
      }
    });
    await Promise.all(lanes);
    const tsecs = (performance.now() - t1) / 1000;
    tickLoopDelay.disable();
    console.log(
      JSON.stringify({
        bench: 'store',
        case: 'copy ticks',
        layout: l.layout,
        rows: written,
        seconds: +tsecs.toFixed(2),
        rowsPerSec: Math.round(written / tsecs),
        loopDelayMaxMs: lateness(tickLoopDelay.max, 5),
      }),
    );

    // The idempotent paths (ticks keyed on symbol, ts, seq): the same COPY batches again, every row already
    // stored (a retry after a lost acknowledgement: the fast COPY is refused, the staging path skips them),
    // then new rows through the staging path alone (what always staging would cost).
    const again = Math.min(TICKS, 500_000);
    for (const [name, write, offset] of [
      ['copy ticks again (all duplicates)', copyTicks, 0],
      ['staged ticks (new rows)', copyTicksStaged, TICKS],
    ] as const) {
      const t = performance.now();
      let stored = 0;
      await Promise.all(
        [0, 1].map(async (lane) => {
          for (let start = lane * batch; start < again; start += 2 * batch) {
            const rows = Array.from({ length: Math.min(batch, again - start) }, (_, k) =>
              trade(offset + start + k),
            );
            const n = await write(pool, rows, 60_000);
            stored += n;
          }
        }),
      );
      const secs = (performance.now() - t) / 1000;
      console.log(
        JSON.stringify({
          bench: 'store',
          case: name,
          rows: again,
          stored,
          seconds: +secs.toFixed(2),
          rowsPerSec: Math.round(again / secs),
        }),
      );
    }
    const total = Number((await pool.query('SELECT count(*) AS n FROM ticks')).rows[0].n);
    if (total !== TICKS + again) throw new Error(`ticks holds ${total} rows, expected ${TICKS + again}`);
  } finally {
    await root.query(`DROP SCHEMA ${schema} CASCADE`);
    await endPool(pool);
    await endPool(root);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
