// Every read the CLI, the export and the web page make goes through an index on the partitioned tables:
// each statement is captured as it runs, then EXPLAINed with its own parameters (sequential scans priced
// out, so a plan that still has one has no index to use) on real PostgreSQL.
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { latestCandles, loadOpenTickCandles, readSeconds } from '../../../src/store/read/queries.js';
import { latestBars, readBars } from '../../../src/store/read/timeframes.js';
import { maintainStorage } from '../../../src/store/schema/maintenance.js';
import { upsertSecondCandles, upsertTickCandles } from '../../../src/store/write/writeCandles.js';
import { captureLog } from '../../helpers/logCapture.js';
import { pgTestDb, type TestDb } from '../../helpers/pg.js';
import { sec, T0, tick } from '../candles.js';

const DAY = 86_400_000;
let db: TestDb;
let pool: pg.Pool;

beforeAll(async () => {
  db = await pgTestDb('explain');
  pool = db.pool({ max: 1 });
  await maintainStorage(pool, { now: T0, log: captureLog().log });
  const rows = [];
  for (let d = 0; d < 3; d++)
    for (const s of ['AAPL', 'MSFT'])
      for (let i = 0; i < 120; i++) rows.push({ ...sec(s, i), bucket: T0 + d * DAY + i * 1000 });
  await upsertSecondCandles(pool, rows);
  await upsertTickCandles(pool, [tick('AAPL', 0), tick('AAPL', 1), tick('MSFT', 0)]);
  await db.admin.query('ANALYZE');
});
afterAll(() => db?.close());

/** The statements `fn` sends, with their parameters. */
async function captured(
  fn: (p: pg.Pool) => Promise<unknown>,
): Promise<{ text: string; values: unknown[] }[]> {
  const seen: { text: string; values: unknown[] }[] = [];
  const spy = {
    query: (text: string, values: unknown[] = []) => {
      seen.push({ text, values });
      return pool.query(text, values);
    },
  } as unknown as pg.Pool;
  await fn(spy);
  return seen;
}

async function plans(fn: (p: pg.Pool) => Promise<unknown>): Promise<string[]> {
  const out: string[] = [];
  for (const q of await captured(fn)) {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL enable_seqscan = off');
      const r = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q.text}`, q.values);
      out.push(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
  }
  return out;
}

const READS: [string, (p: pg.Pool) => Promise<unknown>][] = [
  ['candles (latest 1s across symbols)', (p) => latestCandles(p, { kind: '1s', limit: 20 })],
  ['candles --symbol (1s)', (p) => latestCandles(p, { kind: '1s', symbol: 'AAPL', limit: 20 })],
  ['candles --kind 100t', (p) => latestCandles(p, { kind: '100t', limit: 20 })],
  ['candles --kind 100t --symbol', (p) => latestCandles(p, { kind: '100t', symbol: 'AAPL', limit: 20 })],
  ['resume of the open tick candles', (p) => loadOpenTickCandles(p, '2024-07-03', ['AAPL', 'MSFT'])],
  ['candles --kind 1m', (p) => latestBars(p, { timeframe: '1m', limit: 20 })],
  ['candles --kind 1m --symbol', (p) => latestBars(p, { timeframe: '1m', symbol: 'AAPL', limit: 20 })],
  ['candles --kind 1h', (p) => latestBars(p, { timeframe: '1h', limit: 20 })],
  ['candles --kind 5m --symbol', (p) => latestBars(p, { timeframe: '5m', symbol: 'AAPL', limit: 20 })],
  [
    'a day of 1m bars',
    (p) =>
      readBars(p, { timeframe: '1m', symbol: 'AAPL', from: T0, to: T0 + DAY, limit: 1000, order: 'asc' }),
  ],
  [
    'a year of 1d bars',
    (p) =>
      readBars(p, {
        timeframe: '1d',
        symbol: 'AAPL',
        from: T0 - 365 * DAY,
        to: T0 + DAY,
        limit: 400,
        order: 'desc',
      }),
  ],
  ['export --kind 1s', (p) => readSeconds(p, { symbol: 'AAPL', from: T0, to: T0 + DAY, limit: 5000 })],
];

it.each(READS)('%s uses an index', async (_name, fn) => {
  const ps = await plans(fn);
  expect(ps.length).toBeGreaterThan(0);
  for (const p of ps) {
    expect(p).not.toMatch(/Seq Scan/);
    expect(p).toMatch(/Index (Only )?Scan|Bitmap Index Scan|Result/);
  }
});

it('a symbol range reads only the partitions of its days', async () => {
  const [p] = await plans((q) => readSeconds(q, { symbol: 'AAPL', from: T0, to: T0 + DAY, limit: 5000 }));
  // Run-time pruning (the bounds are parameters) shows as a subplan count or a single partition.
  expect(p).toMatch(/candles_1s_p20240703/);
  expect(p).not.toMatch(/candles_1s_p20240705/);
});
