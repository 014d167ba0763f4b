// Partitions on real PostgreSQL and PGlite: created ahead and on demand (a row 40 days ahead inserts and is
// filed into its own partition), a populated plain database converts without losing a row, and retention
// drops exactly the partitions past their age, one log line each.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintainStorage } from '../../../src/store/schema/maintenance.js';
import { PARTITIONED } from '../../../src/store/schema/partitionSpec.js';
import { isPartitioned, listPartitions } from '../../../src/store/schema/partitions.js';
import { upsertSecondCandles, upsertTickCandles } from '../../../src/store/write/writeCandles.js';
import { insertTicks } from '../../../src/store/write/writeTicks.js';
import { captureLog } from '../../helpers/logCapture.js';
import { pgliteTestDb, pgTestDb, type TestDb } from '../../helpers/pg.js';
import { sec, T0, tick } from '../candles.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2024, 6, 3, 15, 0, 0);
const spec = (name: string) => PARTITIONED.find((t) => t.table === name)!;

describe.each(['postgres', 'pglite'] as const)('partitions on %s', (kind) => {
  let db: TestDb;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = kind === 'postgres' ? await pgTestDb('partitions') : await pgliteTestDb();
    pool = db.pool({ max: 1 });
  });
  afterAll(() => db?.close());

  it('converts the empty tables and creates partitions ahead', async () => {
    const { log } = captureLog();
    const r = await maintainStorage(pool, { now: NOW, log });
    expect(r.converted.sort()).toEqual(['candles_100t', 'candles_1s', 'ticks']);
    for (const t of PARTITIONED) expect(await isPartitioned(pool, t.table)).toBe(true);
    const days = [...(await listPartitions(pool, spec('candles_1s'))).values()].sort();
    expect(days[0]).toBe('candles_1s_p20240702');
    expect(days).toContain('candles_1s_p20240710');
    expect([...(await listPartitions(pool, spec('candles_100t'))).values()].sort()).toEqual([
      'candles_100t_p202407',
    ]);
    // A second pass changes nothing.
    const again = await maintainStorage(pool, { now: NOW, log });
    expect(again.converted).toEqual([]);
    expect(again.created).toEqual([]);
  });

  it('takes a row for a day 40 days ahead and files it into its own partition', async () => {
    const { log, lines: logged } = captureLog();
    const ahead = {
      ...sec('AAPL', 0),
      bucket: T0 + 40 * DAY,
      firstTradeAt: T0 + 40 * DAY,
      lastTradeAt: T0 + 40 * DAY + 5,
    };
    await upsertSecondCandles(pool, [ahead]);
    await upsertTickCandles(pool, [tick('AAPL', 0, 100, '2024-09-12')]);
    const d = await db.admin.query(`SELECT count(*)::int AS n FROM candles_1s_default`);
    expect(d.rows[0].n).toBe(1);
    const r = await maintainStorage(pool, { now: NOW, log });
    expect(r.filed).toBe(2);
    const moved = await db.admin.query(`SELECT count(*)::int AS n FROM candles_1s_p20240812`);
    expect(moved.rows[0].n).toBe(1);
    expect((await db.admin.query(`SELECT count(*)::int AS n FROM candles_1s_default`)).rows[0].n).toBe(0);
    expect((await db.admin.query(`SELECT count(*)::int AS n FROM candles_100t_p202409`)).rows[0].n).toBe(1);
    expect(logged.some((l) => /candles_1s_p20240812: filed 1 rows/.test(String(l.msg)))).toBe(true);
    // And the row is still what a read finds, amendable through the parent.
    await upsertSecondCandles(pool, [{ ...ahead, tradeCount: 9, volume: 90 }]);
    const c = await db.admin.query(
      `SELECT trade_count FROM candles_1s WHERE bucket = to_timestamp($1 / 1000.0)`,
      [ahead.bucket],
    );
    expect(c.rows[0].trade_count).toBe(9);
  });

  it('drops exactly the partitions past their retention, logged once each', async () => {
    const { log, lines: logged } = captureLog();
    await upsertSecondCandles(pool, [sec('MSFT', 1)]);
    const later = NOW + 10 * DAY; // 2024-07-13: with 9 days kept, days before 07-04 go
    const r = await maintainStorage(pool, { now: later, log, retention: { candles_1s: 9 } });
    expect(r.dropped.map((d) => d.partition)).toEqual(['candles_1s_p20240702', 'candles_1s_p20240703']);
    const lines = logged.filter((l) => /retention: dropped/.test(String(l.msg)));
    expect(lines.map((l) => l.partition)).toEqual(['candles_1s_p20240702', 'candles_1s_p20240703']);
    const left = await listPartitions(pool, spec('candles_1s'));
    expect(left.has(Date.UTC(2024, 6, 4))).toBe(true);
    expect(
      (await db.admin.query(`SELECT count(*)::int AS n FROM candles_1s WHERE symbol = 'MSFT'`)).rows[0].n,
    ).toBe(0);
    // candles_1m keeps the minute of the dropped seconds.
    expect(
      (await db.admin.query(`SELECT count(*)::int AS n FROM candles_1m WHERE symbol = 'MSFT'`)).rows[0].n,
    ).toBe(1);
    // Nothing else is touched: 100t has no retention set; a second pass drops nothing more.
    expect(r.dropped.every((d) => d.table === 'candles_1s')).toBe(true);
    expect((await maintainStorage(pool, { now: later, log, retention: { candles_1s: 9 } })).dropped).toEqual(
      [],
    );
  });
});

describe.each(['postgres', 'pglite'] as const)('converting a populated database on %s', (kind) => {
  let db: TestDb;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = kind === 'postgres' ? await pgTestDb('convert') : await pgliteTestDb();
    pool = db.pool({ max: 1 });
  });
  afterAll(() => db?.close());

  const totals = async () => {
    const r = await db.admin.query(`SELECT
      (SELECT row(count(*), sum(volume), sum(trade_count), sum(extract(epoch FROM bucket)), sum(coalesce(open, 0)))::text FROM candles_1s) AS s1,
      (SELECT row(count(*), sum(volume), sum(seq), sum(extract(epoch FROM end_at)))::text FROM candles_100t) AS t100,
      (SELECT row(count(*), sum(price), sum(size), sum(extract(epoch FROM ts)))::text FROM ticks) AS ticks,
      (SELECT row(count(*), sum(volume), sum(trade_count), sum(coalesce(open, 0)))::text FROM candles_1m) AS m1`);
    return r.rows[0];
  };

  it('moves every row, keeping columns, keys and the 1m rollup', async () => {
    const secs = [];
    for (const s of ['AAPL', 'MSFT', 'SPY']) {
      for (let d = 0; d < 5; d++)
        for (let i = 0; i < 90; i += 7)
          secs.push({ ...sec(s, i, 1 + (i % 4), 100 + d), bucket: T0 - d * DAY + i * 1000 });
    }
    secs.push({
      ...sec('ODD', 3),
      open: null,
      high: null,
      low: null,
      close: null,
    } as unknown as (typeof secs)[0]);
    await upsertSecondCandles(pool, secs);
    await upsertTickCandles(pool, [tick('AAPL', 0), tick('AAPL', 1), tick('MSFT', 0, 40, '2024-06-28')]);
    const trades = Array.from({ length: 50 }, (_, i) => ({
      symbol: i % 2 ? 'AAPL' : 'MSFT',
      ts: T0 - (i % 3) * DAY + i,
      price: 100 + i,
      size: i + 1,
      conditions: [i % 5],
      darkPool: false,
      receivedAt: T0 + i,
      exchange: null,
      flags: 0,
      marketStatus: 'open',
    }));
    await insertTicks(pool, trades as never);
    const before = await totals();
    const r = await maintainStorage(pool, { now: NOW, log: captureLog().log });
    expect(r.converted.sort()).toEqual(['candles_100t', 'candles_1s', 'ticks']);
    expect(await totals()).toEqual(before);
    for (const t of ['candles_1s_unpartitioned', 'candles_100t_unpartitioned', 'ticks_unpartitioned']) {
      expect((await db.admin.query(`SELECT to_regclass($1)::text AS t`, [t])).rows[0].t).toBeNull();
    }
    // The key survived (an upsert still conflicts), and so did the rollup trigger.
    await upsertSecondCandles(pool, [{ ...sec('AAPL', 0, 9, 100), bucket: T0 }]);
    const k = await db.admin.query(
      `SELECT count(*)::int AS n, max(trade_count) AS tc FROM candles_1s WHERE symbol = 'AAPL' AND bucket = to_timestamp($1 / 1000.0)`,
      [T0],
    );
    expect(k.rows[0]).toEqual({ n: 1, tc: 9 });
    const m = await db.admin.query(
      `SELECT trade_count FROM candles_1m WHERE symbol = 'AAPL' AND bucket = to_timestamp($1 / 1000.0)`,
      [T0],
    );
    expect(m.rows[0].trade_count).toBeGreaterThanOrEqual(9);
    expect((await listPartitions(pool, spec('candles_1s'))).has(T0 - 4 * DAY - (T0 % DAY))).toBe(true);
  });

  it('a key in both the old heap and the new table: the fuller candle is kept, never the partial one', async () => {
    // A conversion that moves rows while the collector writes: the previous run's full second sits in the old
    // heap, this run's partial first second of it is already in the new table.
    await maintainStorage(pool, { now: NOW, log: captureLog().log });
    await pool.query('CREATE TABLE candles_1s_unpartitioned (LIKE candles_1s INCLUDING DEFAULTS)');
    await pool.query('ALTER TABLE candles_1s_unpartitioned ADD PRIMARY KEY (symbol, bucket)');
    await pool.query(
      `INSERT INTO candles_1s_unpartitioned (symbol, bucket, open, high, low, close, volume, trade_count, vwap,
         first_trade_at, last_trade_at)
       VALUES ('FULL', to_timestamp($1 / 1000.0), 1, 1, 1, 1, 50, 50, 1, to_timestamp($1 / 1000.0),
         to_timestamp($1 / 1000.0))`,
      [T0 + 7_000],
    );
    await upsertSecondCandles(pool, [{ ...sec('FULL', 7, 3), bucket: T0 + 7_000 }]);
    await maintainStorage(pool, { now: NOW, log: captureLog().log });
    const r = await db.admin.query(`SELECT trade_count FROM candles_1s WHERE symbol = 'FULL'`);
    expect(r.rows).toEqual([{ trade_count: 50 }]);
    expect(
      (await db.admin.query(`SELECT to_regclass('candles_1s_unpartitioned')::text AS t`)).rows[0].t,
    ).toBeNull();
  });
});
