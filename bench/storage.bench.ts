// Storage at scale, on the real server (not in CI): a year of synthetic 1-second candles (BENCH_DAYS
// weekdays × BENCH_SYMBOLS symbols × BENCH_SECONDS seconds, default 252 × 50 × 23,400 ≈ 295 M rows) built
// with generate_series into the partitioned candles_1s, candles_1m rolled up a day at a time, then:
// rows, table and index size per day, the day-of-1m-bars read, `candles --limit 20`, and dropping one day's
// partition. Its own schema, dropped at the end (BENCH_KEEP=1 keeps it). Run it under
// `flock /tmp/tc-bench.lock`. JSON lines on stdout.

import { nullLogger } from '../src/log/logger.js';
import { createPool, endPool } from '../src/store/db/connection.js';
import { latestCandles } from '../src/store/read/queries.js';
import { latestBars, readBars } from '../src/store/read/timeframes.js';
import { maintainStorage } from '../src/store/schema/maintenance.js';
import { migrate } from '../src/store/schema/migrate.js';
import { PARTITIONED } from '../src/store/schema/partitionSpec.js';
import { ensurePartitions, inLockedTx, listPartitions } from '../src/store/schema/partitions.js';
import { rollupRange } from '../src/store/schema/rollupBackfill.js';

const URL_ = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DAYS = Number(process.env.BENCH_DAYS ?? 252);
const SYMBOLS = Number(process.env.BENCH_SYMBOLS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 23_400);
const DAY = 86_400_000;
/** The last day of the synthetic year; sessions open 14:30 UTC (09:30 EST). */
const LAST = Date.UTC(2025, 11, 31);

function weekdays(n: number): number[] {
  const out: number[] = [];
  for (let d = LAST; out.length < n; d -= DAY) if (![0, 6].includes(new Date(d).getUTCDay())) out.push(d);
  return out.reverse();
}

const GENERATE = `
INSERT INTO candles_1s (symbol, bucket, open, high, low, close, volume, trade_count, vwap, first_trade_at, last_trade_at)
SELECT 'S' || lpad(s::text, 3, '0'), b, p, p + 0.05, p - 0.05, p + 0.01, 100 + (i % 50), 1 + (i % 7), p + 0.005,
       b + interval '3 ms', b + interval '990 ms'
FROM generate_series(0, $2::int - 1) AS s, generate_series(0, $3::int - 1) AS i,
     LATERAL (SELECT to_timestamp($1::float8 / 1000) + i * interval '1 second' AS b,
                     100 + s + sin(i / 300.0) * 2 AS p) AS x`;

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (f: number) => +s[Math.min(s.length - 1, Math.floor(f * s.length))]!.toFixed(2);
  return { medianMs: q(0.5), p95Ms: q(0.95), maxMs: +s[s.length - 1]!.toFixed(2), runs: s.length };
}

async function timed(n: number, fn: () => Promise<unknown>) {
  await fn(); // warm
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return stats(out);
}

const emit = (o: object) => console.log(JSON.stringify({ bench: 'storage', ...o }));

/**
 * Why candles_100t is monthly: the same year of 100-tick candles (BENCH_100T_PER_DAY per symbol and day)
 * in the monthly table and in a copy partitioned by day, and the latest-20 query on each.
 */
async function tickLayouts(pool: ReturnType<typeof createPool>, days: number[]) {
  const perDay = Number(process.env.BENCH_100T_PER_DAY ?? 200);
  await pool.query(
    'CREATE TABLE candles_100t_daily (LIKE candles_100t INCLUDING ALL) PARTITION BY RANGE (session_date)',
  );
  await pool.query('CREATE TABLE candles_100t_daily_default PARTITION OF candles_100t_daily DEFAULT');
  const spec = PARTITIONED.find((t) => t.table === 'candles_100t')!;
  await ensurePartitions(pool, spec, days[0]!, LAST);
  for (const d of days) {
    const date = new Date(d).toISOString().slice(0, 10);
    await pool.query(
      `CREATE TABLE candles_100t_daily_${date.replace(/-/g, '')} PARTITION OF candles_100t_daily
       FOR VALUES FROM ('${date}') TO ('${new Date(d + DAY).toISOString().slice(0, 10)}')`,
    );
    for (const t of ['candles_100t', 'candles_100t_daily']) {
      await pool.query(
        `INSERT INTO ${t} (symbol, session_date, seq, open, high, low, close, volume, trade_count, vwap, start_at, end_at)
         SELECT 'S' || lpad(s::text, 3, '0'), $1::date, q, 100, 101, 99, 100.5, 1000, 100, 100.2,
                to_timestamp($2::float8 / 1000) + q * interval '100 ms', to_timestamp($2::float8 / 1000) + q * interval '100 ms' + interval '90 ms'
         FROM generate_series(0, $3::int - 1) AS s, generate_series(0, $4::int - 1) AS q`,
        [date, d + 14.5 * 3_600_000, SYMBOLS, perDay],
      );
    }
  }
  await pool.query('ANALYZE candles_100t; ANALYZE candles_100t_daily');
  const latest = (t: string) => () =>
    pool.query(
      `SELECT symbol, session_date::text, seq FROM ${t} ORDER BY end_at DESC, symbol, seq DESC LIMIT 20`,
    );
  const monthly = await timed(30, latest('candles_100t'));
  const daily = await timed(30, latest('candles_100t_daily'));
  const n = await pool.query<{ m: number; d: number }>(
    `SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = 'candles_100t'::regclass)::int AS m,
            (SELECT count(*) FROM pg_inherits WHERE inhparent = 'candles_100t_daily'::regclass)::int AS d`,
  );
  const drop = await pool.query<{ n: string }>(
    `SELECT c.relname AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'candles_100t_daily'::regclass`,
  );
  for (const { n: name } of drop.rows) await pool.query(`DROP TABLE ${name}`);
  return {
    rowsPerDay: SYMBOLS * perDay,
    monthly: { partitions: n.rows[0]!.m, latest20MedianMs: monthly.medianMs, p95Ms: monthly.p95Ms },
    daily: { partitions: n.rows[0]!.d, latest20MedianMs: daily.medianMs, p95Ms: daily.p95Ms },
  };
}

async function main(): Promise<void> {
  const schema = `tc_bench_storage_${process.pid}`;
  const root = createPool({ url: URL_, max: 1 });
  await root.query(`CREATE SCHEMA ${schema}`);
  const pool = createPool({
    url: URL_,
    searchPath: schema,
    max: 2,
    applicationName: 'tick-collector-bench',
    queryTimeoutMs: 3_600_000,
  });
  const days = weekdays(DAYS);
  try {
    await migrate(pool);
    await maintainStorage(pool, { now: LAST, log: nullLogger() });
    const spec = PARTITIONED.find((t) => t.table === 'candles_1s')!;
    await ensurePartitions(pool, spec, days[0]!, LAST);

    let rows = 0;
    let genMs = 0;
    let rollMs = 0;
    const t0 = performance.now();
    for (const [k, d] of days.entries()) {
      const open = d + 14.5 * 3_600_000;
      const g = performance.now();
      const r = await inLockedTx(pool, async (c) => {
        // Bulk generation: the seconds are rolled up below, a day per statement, as the backfill does.
        await c.query(`SET LOCAL tc.skip_rollup = 'on'`);
        return c.query(GENERATE, [open, SYMBOLS, SECONDS]);
      });
      rows += r.rowCount ?? 0;
      const m = performance.now();
      genMs += m - g;
      await rollupRange(pool, d, d + DAY);
      rollMs += performance.now() - m;
      if (k % 20 === 19) process.stderr.write(`storage bench: ${k + 1}/${days.length} days, ${rows} rows\n`);
    }
    await pool.query('ANALYZE candles_1s; ANALYZE candles_1m');
    emit({
      case: 'build',
      days: days.length,
      symbols: SYMBOLS,
      secondsPerDay: SECONDS,
      rows,
      seconds: +((performance.now() - t0) / 1000).toFixed(1),
      generateMsPerDay: Math.round(genMs / days.length),
      rollup1mMsPerDay: Math.round(rollMs / days.length),
    });

    const mid = days[Math.floor(days.length / 2)]!;
    const parts = await listPartitions(pool, spec);
    const size = await pool.query<{ t: string; i: string; n: string; m1t: string; m1i: string; m1n: string }>(
      `SELECT pg_relation_size($1)::text AS t, pg_indexes_size($1)::text AS i,
              (SELECT count(*) FROM ${parts.get(mid)!})::text AS n,
              pg_relation_size('candles_1m')::text AS m1t, pg_indexes_size('candles_1m')::text AS m1i,
              (SELECT count(*) FROM candles_1m)::text AS m1n`,
      [parts.get(mid)],
    );
    const z = size.rows[0]!;
    const mb = (b: string | number) => +(Number(b) / 1_048_576).toFixed(1);
    emit({
      case: 'size per day',
      partition: parts.get(mid),
      rows: Number(z.n),
      tableMB: mb(z.t),
      indexMB: mb(z.i),
      bytesPerRow: Math.round((Number(z.t) + Number(z.i)) / Number(z.n)),
      perSymbolPerDayKB: +((Number(z.t) + Number(z.i)) / SYMBOLS / 1024).toFixed(1),
      candles1mRows: Number(z.m1n),
      candles1mMBPerDay: mb((Number(z.m1t) + Number(z.m1i)) / days.length),
    });

    const sym = `S${String(Math.floor(SYMBOLS / 2)).padStart(3, '0')}`;
    const dayBars = await readBars(pool, {
      timeframe: '1m',
      symbol: sym,
      from: mid,
      to: mid + DAY,
      limit: 1000,
      order: 'asc',
    });
    emit({
      case: 'a day of 1m bars, one symbol',
      bars: dayBars.length,
      ...(await timed(50, () =>
        readBars(pool, { timeframe: '1m', symbol: sym, from: mid, to: mid + DAY, limit: 1000, order: 'asc' }),
      )),
    });
    emit({
      case: 'candles --limit 20 (1s, all symbols)',
      ...(await timed(30, () => latestCandles(pool, { kind: '1s', limit: 20, now: LAST + DAY }))),
    });
    emit({
      case: 'candles --symbol --limit 20 (1s)',
      ...(await timed(30, () =>
        latestCandles(pool, { kind: '1s', symbol: sym, limit: 20, now: LAST + DAY }),
      )),
    });
    emit({
      case: 'candles --kind 1m --limit 20',
      ...(await timed(30, () => latestBars(pool, { timeframe: '1m', limit: 20 }))),
    });
    emit({
      case: 'a year of 1d bars, one symbol',
      ...(await timed(10, () =>
        readBars(pool, {
          timeframe: '1d',
          symbol: sym,
          from: days[0]!,
          to: LAST + DAY,
          limit: 400,
          order: 'asc',
        }),
      )),
    });
    emit({ case: '100t layout: monthly vs daily partitions', ...(await tickLayouts(pool, days)) });
    const oldest = parts.get(days[0]!)!;
    const td = performance.now();
    await inLockedTx(pool, (c) => c.query(`DROP TABLE ${oldest}`));
    emit({ case: "drop one day's partition", partition: oldest, ms: +(performance.now() - td).toFixed(1) });
  } finally {
    if (!process.env.BENCH_KEEP) {
      // A partition per statement: one DROP SCHEMA of a year's partitions needs more locks than the server has.
      const left = await pool.query<{ n: string }>(
        `SELECT c.relname AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('candles_1s')`,
      );
      for (const { n } of left.rows) await pool.query(`DROP TABLE ${n}`);
      await root.query(`DROP SCHEMA ${schema} CASCADE`);
    }
    await endPool(pool);
    await endPool(root);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
