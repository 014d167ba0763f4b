// After a real run (simulated feed into real PostgreSQL), the candle tables are partitioned and
// `candles --kind 1m --json` prints, per minute, exactly what that minute's 1-second rows aggregate to;
// `export` streams the same bars as CSV.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, endPool } from '../../src/store/db/connection.js';
import { runCli, runCliToEnd } from '../helpers/cli.js';
import { TEST_DATABASE_URL } from '../helpers/pg.js';

const dbName = `tc_e2e_storage_${process.pid}`;
const root = createPool({ url: TEST_DATABASE_URL, max: 1 });
const url = new URL(TEST_DATABASE_URL);
url.pathname = `/${dbName}`;
url.searchParams.set('sslmode', 'disable');
const env = { DATABASE_URL: url.toString(), FEED: 'sim', PORT: '0', SIM_RATE: '3000', SYMBOLS: 'AAPL,MSFT' };
let db: ReturnType<typeof createPool>;

beforeAll(async () => {
  await root.query(`CREATE DATABASE ${dbName}`);
  db = createPool({ url: url.toString(), max: 1 });
});
afterAll(async () => {
  await endPool(db);
  await root.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await endPool(root);
});

interface Bar {
  bucket: number;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number;
  tradeCount: number;
}

describe('storage after a real run', () => {
  it('partitions the tables and serves 1m bars equal to their seconds', async () => {
    const run = runCli(['run'], env);
    const listening = await run.waitForLog(
      (l) => l.component === 'http' && typeof l.port === 'number',
      'health',
    );
    await run.waitForLog((l) => String(l.msg).includes('candles_100t is now partitioned'), 'partitioning');
    // Until the daemon has them (no iteration cap: the test's timeout bounds it).
    for (;;) {
      const h = (await (await fetch(`http://127.0.0.1:${listening.port}/health`)).json()) as {
        feed: { trades: number };
      };
      if (h.feed.trades >= 6_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    run.proc.kill('SIGINT');
    expect((await run.exited).code).toBe(0);

    const kinds = await db.query<{ t: string; k: string }>(
      `SELECT relname AS t, relkind::text AS k FROM pg_class WHERE relname IN ('candles_1s', 'candles_100t', 'ticks') ORDER BY 1`,
    );
    expect(kinds.rows).toEqual([
      { t: 'candles_100t', k: 'p' },
      { t: 'candles_1s', k: 'p' },
      { t: 'ticks', k: 'p' },
    ]);

    const r = await runCliToEnd(
      ['candles', '--kind', '1m', '--symbol', 'AAPL', '--limit', '1000', '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const bars = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Omit<Bar, 'bucket'> & { bucket: string })
      // The CLI's JSON gives every instant as ISO-8601.
      .map((b): Bar => ({ ...b, bucket: Date.parse(b.bucket) }));
    expect(bars.length).toBeGreaterThan(0);
    const ref = await db.query<Bar>(
      `SELECT (extract(epoch FROM date_bin('1 minute', bucket, TIMESTAMPTZ 'epoch')) * 1000)::float8 AS bucket,
              (array_agg(open ORDER BY bucket) FILTER (WHERE open IS NOT NULL))[1] AS open, max(high) AS high,
              min(low) AS low, (array_agg(close ORDER BY bucket DESC) FILTER (WHERE close IS NOT NULL))[1] AS close,
              sum(volume) AS volume, sum(trade_count)::int AS "tradeCount"
       FROM candles_1s WHERE symbol = 'AAPL' GROUP BY 1 ORDER BY 1 DESC`,
    );
    const pick = (b: Bar) => ({
      bucket: b.bucket,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: b.volume,
      tradeCount: b.tradeCount,
    });
    expect(bars.map(pick)).toEqual(ref.rows);

    const csv = await runCliToEnd(
      ['export', '--kind', '1m', '--symbol', 'AAPL', '--from', '2000-01-01', '--format', 'csv'],
      env,
    );
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('symbol,bucket,open,high,low,close,volume,trade_count,vwap');
    expect(lines.length - 1).toBe(bars.length);
    expect(lines[1]!.split(',')[1]).toBe(new Date(bars[bars.length - 1]!.bucket).toISOString());
  }, 120_000);
});
