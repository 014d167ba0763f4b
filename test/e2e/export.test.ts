// `export` as a researcher uses it: the database's column names in every format, 100-tick candles, "no
// rows" said on stderr, and Parquet read back by an independent reader (Apache Arrow's Rust implementation
// compiled to WebAssembly, parquet-wasm, decoded with apache-arrow), paged over more rows than one read.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, endPool } from '../../src/store/db/connection.js';
import { migrate } from '../../src/store/schema/migrate.js';
import { runCliToEnd } from '../helpers/cli.js';
import { TEST_DATABASE_URL } from '../helpers/pg.js';

const dbName = `tc_e2e_export_${process.pid}`;
const root = createPool({ url: TEST_DATABASE_URL, max: 1 });
const url = new URL(TEST_DATABASE_URL);
url.pathname = `/${dbName}`;
url.searchParams.set('sslmode', 'disable');
const env = { DATABASE_URL: url.toString() };
const dir = mkdtempSync(join(tmpdir(), 'tc-export-'));
let db: ReturnType<typeof createPool>;

/** 2024-07-03 14:00:00 UTC (10:00 New York): 6,000 seconds of AAPL, every 7th without a price. */
const T0 = Date.UTC(2024, 6, 3, 14, 0, 0);
const SECONDS = 6_000;

beforeAll(async () => {
  await root.query(`CREATE DATABASE ${dbName}`);
  db = createPool({ url: url.toString(), max: 2 });
  await migrate(db);
  await db.query(
    `INSERT INTO candles_1s (symbol, bucket, open, high, low, close, volume, trade_count, vwap, first_trade_at, last_trade_at)
     SELECT 'AAPL', to_timestamp(($1::float8 + i * 1000) / 1000),
            CASE WHEN i % 7 = 3 THEN NULL ELSE 100 + i / 1000.0 END, CASE WHEN i % 7 = 3 THEN NULL ELSE 101 + i / 1000.0 END,
            CASE WHEN i % 7 = 3 THEN NULL ELSE 99 + i / 1000.0 END, CASE WHEN i % 7 = 3 THEN NULL ELSE 100.5 + i / 1000.0 END,
            10 + i, 1 + i % 5, 100.25 + i / 1000.0,
            to_timestamp(($1::float8 + i * 1000 + 10) / 1000), to_timestamp(($1::float8 + i * 1000 + 900) / 1000)
     FROM generate_series(0, $2 - 1) AS i`,
    [T0, SECONDS],
  );
  await db.query(
    `INSERT INTO candles_100t (symbol, session_date, seq, open, high, low, close, volume, trade_count, vwap, start_at, end_at)
     VALUES ('AAPL', '2024-07-03', 0, 10, 11, 9, 10.5, 1000, 100, 10.2, $1, $2),
            ('AAPL', '2024-07-03', 1, NULL, NULL, NULL, NULL, 50, 37, 10.4, $3, $4)`,
    [new Date(T0), new Date(T0 + 5_000), new Date(T0 + 6_000), new Date(T0 + 9_000)],
  );
});
afterAll(async () => {
  await endPool(db);
  await root.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await endPool(root);
  rmSync(dir, { recursive: true, force: true });
});

const ONE_S = 'symbol,bucket,open,high,low,close,volume,trade_count,vwap,first_trade_at,last_trade_at,source';
const HUNDRED_T =
  'symbol,session_date,seq,open,high,low,close,volume,trade_count,vwap,start_at,end_at,source';

function readBack(path: string) {
  return tableFromIPC(readParquet(readFileSync(path)).intoIPCStream());
}

describe('export', () => {
  it("writes 100-tick candles with the table's columns (CSV and JSONL)", async () => {
    const csv = await runCliToEnd(
      ['export', '--symbol', 'AAPL', '--kind', '100t', '--from', '2024-07-03'],
      env,
    );
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines).toEqual([
      HUNDRED_T,
      `AAPL,2024-07-03,0,10,11,9,10.5,1000,100,10.2,${new Date(T0).toISOString()},${new Date(T0 + 5_000).toISOString()},live`,
      `AAPL,2024-07-03,1,,,,,50,37,10.4,${new Date(T0 + 6_000).toISOString()},${new Date(T0 + 9_000).toISOString()},live`,
    ]);
    const jsonl = await runCliToEnd(
      ['export', '--symbol', 'AAPL', '--kind', '100t', '--format', 'jsonl'],
      env,
    );
    expect(jsonl.code, jsonl.stderr).toBe(0);
    const rows = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(rows[0]!).join(',')).toBe(HUNDRED_T);
    expect(rows[1]).toMatchObject({ session_date: '2024-07-03', seq: 1, open: null, trade_count: 37 });
  });

  it('uses the same names for seconds and bars: trade_count, never tradeCount', async () => {
    const j = await runCliToEnd(
      [
        'export',
        '--symbol',
        'AAPL',
        '--kind',
        '1s',
        '--format',
        'jsonl',
        '--to',
        new Date(T0 + 3_000).toISOString(),
      ],
      env,
    );
    expect(j.code, j.stderr).toBe(0);
    const rows = j.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.length).toBe(3);
    expect(Object.keys(rows[0]!).join(',')).toBe(ONE_S);
    expect(j.stdout).not.toContain('tradeCount');
    const bars = await runCliToEnd(['export', '--symbol', 'AAPL', '--kind', '1m', '--format', 'jsonl'], env);
    expect(Object.keys(JSON.parse(bars.stdout.split('\n')[0]!) as object).join(',')).toBe(
      'symbol,bucket,open,high,low,close,volume,trade_count,vwap',
    );
  });

  it('says "no rows" on stderr for a symbol with none (the header still written)', async () => {
    const r = await runCliToEnd(['export', '--symbol', 'ZZZZ', '--kind', '1s'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${ONE_S}\n`);
    expect(r.stderr).toMatch(/no rows for ZZZZ \(1s/);
  });

  it('writes Parquet that another implementation reads back, row for row, over several pages', async () => {
    const path = join(dir, 'aapl-1s.parquet');
    const r = await runCliToEnd(
      ['export', '--symbol', 'AAPL', '--kind', '1s', '--format', 'parquet', '--output', path],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${SECONDS} rows of AAPL (1s) to ${path}`);
    const t = readBack(path);
    expect(t.numRows).toBe(SECONDS);
    expect(t.schema.fields.map((f) => f.name).join(',')).toBe(ONE_S);
    expect(t.schema.fields.map((f) => String(f.type))).toEqual([
      'Utf8',
      'Timestamp<MILLISECOND, UTC>',
      'Float64',
      'Float64',
      'Float64',
      'Float64',
      'Float64',
      'Int32',
      'Float64',
      'Timestamp<MILLISECOND, UTC>',
      'Timestamp<MILLISECOND, UTC>',
      'Utf8',
    ]);
    // Every row as the database has it, in order (past the 5,000-row page).
    const ref = await db.query<{ b: number; open: number | null; volume: number; trade_count: number }>(
      `SELECT (extract(epoch FROM bucket) * 1000)::float8 AS b, open, volume, trade_count FROM candles_1s
       WHERE symbol = 'AAPL' ORDER BY bucket`,
    );
    const got = t.toArray().map((row) => {
      const o = row.toJSON() as { bucket: number; open: number | null; volume: number; trade_count: number };
      return { b: Number(o.bucket), open: o.open, volume: o.volume, trade_count: o.trade_count };
    });
    expect(got).toEqual(ref.rows);
    expect(got.filter((g) => g.open === null).length).toBeGreaterThan(800);

    const p100 = join(dir, 'aapl-100t.parquet');
    expect(
      (
        await runCliToEnd(
          ['export', '--symbol', 'AAPL', '--kind', '100t', '--format', 'parquet', '--output', p100],
          env,
        )
      ).code,
    ).toBe(0);
    const t100 = readBack(p100);
    expect(t100.schema.fields.map((f) => f.name).join(',')).toBe(HUNDRED_T);
    expect(String(t100.schema.fields[1]!.type)).toBe('Date32<DAY>');
    expect(t100.toArray().map((x) => (x.toJSON() as { seq: number }).seq)).toEqual([0, 1]);
  }, 60_000);

  it('wants a file for Parquet: one line naming --output', async () => {
    const r = await runCliToEnd(['export', '--symbol', 'AAPL', '--format', 'parquet'], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tick-collector: --output is required with --format parquet/);
  });
});
