// Cost of a backfill: a 1-minute gap ('*', 50 symbols) filled from the simulator's tick API (the SimTape
// HTTP handler on loopback), into the real server in its own schema (dropped at the end). The tape: 5
// minutes of the simulator's market at BENCH_RATE trades/s over the 50 symbols; the gap sits in its middle,
// so the 100-tick series is rebuilt from the gap to the end of the tape. Prints one JSON line.
// Run alone: flock /tmp/tc-bench.lock npx tsx bench/backfill.bench.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestLimits } from '../src/backfill/limits.js';
import { runBackfill } from '../src/backfill/runner.js';
import { TickApi } from '../src/backfill/tickApi.js';
import { systemClock } from '../src/clock.js';
import { SimMarket } from '../src/feed/sim/market.js';
import { SimTape } from '../src/feed/sim/tape.js';
import { nullLogger } from '../src/log/logger.js';
import { createPool, endPool } from '../src/store/db/connection.js';
import { migrate } from '../src/store/schema/migrate.js';
import { upsertGaps } from '../src/store/write/writeGaps.js';

const URL_ = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RATE = Number(process.env.BENCH_RATE ?? 2_000);
const SYMBOLS = Array.from({ length: 50 }, (_, i) => `S${i}`);
const T0 = Date.UTC(2026, 2, 2, 15, 0); // 10:00 ET, a Monday
const SPAN_MS = 5 * 60_000;

const tape = new SimTape(null);
const market = new SimMarket(7);
for (let t = T0; t < T0 + SPAN_MS; t += 10) {
  const n = market.arrivals(RATE, 10);
  for (let i = 0; i < n; i++) tape.add(market.trade(market.pick(SYMBOLS)!, t));
}
const server = createServer((req, res) => {
  if (!tape.handle(req, res)) res.writeHead(404).end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;

const schema = `tc_bench_backfill_${process.pid}`;
const root = createPool({ url: URL_, max: 1 });
await root.query(`CREATE SCHEMA ${schema}`);
const pool = createPool({ url: URL_, searchPath: schema, max: 4 });
try {
  await migrate(pool);
  const g0 = T0 + 120_000;
  await upsertGaps(pool, [
    { symbol: '*', symbols: SYMBOLS, startedAt: g0, endedAt: g0 + 60_000, reason: 'bench' },
  ]);
  const limits = new RequestLimits(systemClock, 900, 1_000_000);
  const api = new TickApi({ baseUrl: base, token: 'bench', clock: systemClock, limits });
  const started = performance.now();
  const r = await runBackfill({
    pool,
    api,
    clock: { now: () => T0 + 86_400_000, sleep: systemClock.sleep },
    log: nullLogger(),
    settings: {
      candleLatenessMs: 60_000,
      candleIntervalMs: 1_000,
      tickCandleSize: 100,
      sessionTailMs: 10_000,
      candleConditions: 'sip',
    },
    // As the daemon and the CLI run it: the request budget counted in the database.
    budget: process.env.BENCH_NO_SHARED_BUDGET ? null : { perMinute: 900, perDay: 1_000_000 },
  });
  const seconds = (performance.now() - started) / 1000;
  const rows = await pool.query(
    'SELECT (SELECT count(*) FROM candles_1s)::int AS s, (SELECT count(*) FROM candles_100t)::int AS t',
  );
  process.stdout.write(
    `${JSON.stringify({
      bench: 'backfill-1min-gap-50-symbols',
      rate: RATE,
      state: r.outcomes.map((o) => o.state),
      filledTrades: r.outcomes[0]?.trades,
      requests: r.requests,
      seconds: Number(seconds.toFixed(3)),
      candles1s: rows.rows[0].s,
      candles100t: rows.rows[0].t,
    })}\n`,
  );
} finally {
  await root.query(`DROP SCHEMA ${schema} CASCADE`);
  await endPool(pool);
  await endPool(root);
  server.close();
}
