// The hand-built wire formats against the real server: binary COPY of ticks and the unnest array literals
// of the candle upserts, with the values that break naive encoders; and the backlog statement size.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Trade } from '../../../src/aggregate/types.js';
import { Sink } from '../../../src/store/sink/sink.js';
import { numberElement, textElement } from '../../../src/store/write/arrayLiteral.js';
import { upsertSecondCandles, upsertTickCandles } from '../../../src/store/write/writeCandles.js';
import { copyTicks } from '../../../src/store/write/writeTicks.js';
import { pgTestDb, type TestDb } from '../../helpers/pg.js';
import { sec, T0, tick, trade } from '../candles.js';

let db: TestDb;
let dataDir: string;
beforeAll(async () => {
  db = await pgTestDb('encoding');
  dataDir = mkdtempSync(join(tmpdir(), 'tc-encoding-'));
});
afterAll(async () => {
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const ODD_SYMBOLS = [
  'TI\tCK',
  'a\\b',
  'q"uote',
  'NULL',
  '',
  'x,y',
  '{}',
  'sp ace',
  'Ünï',
  'new\nline',
  'c\r',
];

describe('array literal elements', () => {
  it('quotes text always and spells numbers as String() does', () => {
    expect(textElement('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(textElement('NULL')).toBe('"NULL"');
    expect(textElement(null)).toBe('NULL');
    expect(numberElement(1.5)).toBe('1.5');
    expect(numberElement(Number.NaN)).toBe('NaN');
    expect(numberElement(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
    expect(numberElement(null)).toBe('NULL');
    expect(numberElement('1,2' as unknown as number)).toBe('"1,2"'); // never splits a column
  });
});

describe('candle upserts with odd values', () => {
  it('round-trips symbols, a null vwap and float specials', async () => {
    const rows = ODD_SYMBOLS.map((s, i) => ({ ...sec(s, i), vwap: i % 2 ? null : 0.1 + 0.2 }));
    rows.push({ ...sec('INF', 0), high: Number.POSITIVE_INFINITY, low: Number.NEGATIVE_INFINITY });
    expect((await upsertSecondCandles(db.admin, rows)).written).toBe(rows.length);
    const r = await db.admin.query(
      'SELECT symbol, extract(epoch FROM bucket) * 1000 AS b, vwap, high, low, trade_count FROM candles_1s',
    );
    const got = new Map(r.rows.map((x) => [x.symbol as string, x]));
    for (const c of rows) {
      const x = got.get(c.symbol);
      expect(x, JSON.stringify(c.symbol)).toBeDefined();
      expect(Number(x.b)).toBe(c.bucket);
      expect(x.vwap).toBe(c.vwap);
      expect(x.high).toBe(c.high);
      expect(x.low).toBe(c.low);
    }
    const t = [tick('q"uote', 0, 37, '2024-07-03'), tick('', 1, 100, '2024-07-02')];
    expect((await upsertTickCandles(db.admin, t)).written).toBe(2);
    const tr = await db.admin.query(
      'SELECT symbol, session_date::text AS d, seq, trade_count FROM candles_100t ORDER BY seq',
    );
    expect(tr.rows).toEqual([
      { symbol: 'q"uote', d: '2024-07-03', seq: 0, trade_count: 37 },
      { symbol: '', d: '2024-07-02', seq: 1, trade_count: 100 },
    ]);
  });
});

describe('ticks by binary COPY', () => {
  async function stored(symbols: string[]): Promise<pg.QueryResultRow[]> {
    const r = await db.admin.query(
      `SELECT symbol, (extract(epoch FROM ts) * 1000)::float8 AS ts, price, size, conditions, dark_pool,
              (extract(epoch FROM received_at) * 1000)::float8 AS received_at
       FROM ticks WHERE symbol = ANY($1) ORDER BY ts, symbol`,
      [symbols],
    );
    return r.rows;
  }

  it('stores every field exactly (odd symbols, old and fractional times, conditions)', async () => {
    const rows: Trade[] = ODD_SYMBOLS.map((s, i) => ({ ...trade(s, i), price: 100.123456789 + i }));
    rows.push({ ...trade('OLD', 0), ts: Date.UTC(1999, 11, 31, 23, 59, 59, 999), receivedAt: 0 });
    rows.push({ ...trade('FRAC', 0), ts: T0 + 0.6, conditions: [-1, 0, 2147483647, 7.9] });
    rows.push({ ...trade('BIG', 0), size: 1e21, price: 5e-324, darkPool: true });
    expect(await copyTicks(db.admin, rows, 5_000)).toBe(rows.length);
    const got = await stored(rows.map((t) => t.symbol));
    const want = rows
      .map((t) => ({
        symbol: t.symbol,
        ts: Math.round(t.ts),
        price: t.price,
        size: t.size,
        conditions: t.conditions.map(Math.trunc),
        dark_pool: t.darkPool,
        received_at: Math.round(t.receivedAt),
      }))
      .sort((a, b) => a.ts - b.ts || (a.symbol < b.symbol ? -1 : 1));
    expect(got).toEqual(want);
  });

  it('fails a bad row on the client (the sink then dead-letters it alone)', async () => {
    const s = new Sink({ pool: db.pool(), dataDir, archiveTicks: true, flushMs: 20 });
    for (let i = 0; i < 20; i++)
      s.pushTick(i === 7 ? { ...trade('BADT', i), ts: Number.NaN } : trade('BADT', i));
    s.pushTick({ ...trade('BADT', 30), conditions: [2 ** 31] });
    await s.stop(10_000);
    expect(s.stats.deadLettered).toBe(2);
    expect(s.stats.rowsWritten.ticks).toBe(19);
    expect((await stored(['BADT'])).length).toBe(19);
  });
});

describe('backlog statements', () => {
  it('writes a backlog in statements of up to 4× batchRows, a burst and an idle trickle in batchRows', async () => {
    const pool = db.pool();
    const sizes: number[] = [];
    const query = pool.query.bind(pool) as (...a: unknown[]) => Promise<unknown>;
    (pool as unknown as { query: typeof query }).query = (...a: unknown[]) => {
      const [text, params] = a as [string, string[] | undefined];
      if (typeof text === 'string' && text.includes('INSERT INTO candles_1s') && params)
        sizes.push(params[0]!.split('","').length);
      return query(...a);
    };
    // 1,000 rows queued is a backlog past a twentieth of a 2,000-row buffer.
    const s = new Sink({ pool, dataDir, batchRows: 100, flushMs: 20, maxBufferRows: 2_000 });
    for (let i = 0; i < 1_000; i++) s.push(sec('BKLG', i));
    await s.stop(10_000);
    expect(s.stats.rowsWritten.candles_1s).toBe(1_000);
    expect(s.stats.retries).toBe(0);
    expect(Math.max(...sizes)).toBe(400);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1_000);
    sizes.length = 0;
    // The same 1,000 rows against the default buffer (200,000 rows) are a burst (one flush's candles):
    // batchRows statements, so none is built on the feed's thread for long.
    const u = new Sink({ pool, dataDir, batchRows: 100, flushMs: 20 });
    for (let i = 0; i < 1_000; i++) u.push(sec('BRST', i));
    await u.stop(10_000);
    expect(u.stats.rowsWritten.candles_1s).toBe(1_000);
    expect(Math.max(...sizes)).toBe(100);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1_000);
    sizes.length = 0;
    const t = new Sink({ pool, dataDir, batchRows: 100, flushMs: 20 });
    for (let i = 0; i < 60; i++) t.push(sec('IDLE', i));
    await t.stop(10_000);
    expect(sizes).toEqual([60]);
  });
});
