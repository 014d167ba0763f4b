// SIGTERM mid-stream, as Railway sends it on a deploy: the collector (a real child process on the
// simulated feed, writing to the real PostgreSQL) must stop reading, write every open candle, drain the
// sink and exit 0 — and every trade it received must be in the database, in both candle kinds.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthSnapshot } from '../../src/http/snapshot.js';
import { createPool, endPool } from '../../src/store/db/connection.js';
import { runCli } from '../helpers/cli.js';
import { TEST_DATABASE_URL } from '../helpers/pg.js';

const dbName = `tc_e2e_shutdown_${process.pid}`;
// The project's pools: an 'error' listener on every client, so the FORCE drop below (which terminates any
// backend still attached to the database) can never surface as an uncaught error.
const admin = createPool({ url: TEST_DATABASE_URL, max: 1 });
let url = '';

beforeAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
  await admin.query(`CREATE DATABASE ${dbName}`);
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${dbName}`;
  url = u.toString();
});

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await endPool(admin);
});

async function health(port: number): Promise<HealthSnapshot> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return (await res.json()) as HealthSnapshot;
}

describe('graceful shutdown of the real daemon', () => {
  it('SIGTERM mid-stream: exit 0, every received trade in candles_1s, candles_100t and ticks', async () => {
    const run = runCli(['run'], {
      DATABASE_URL: url,
      FEED: 'sim',
      SIM_RATE: '3000',
      SYMBOLS: 'AAPL,MSFT,SPY',
      ARCHIVE_TICKS: 'true',
      PORT: '0',
      DATA_DIR: `/tmp/tc-e2e-${process.pid}`,
    });
    const listening = await run.waitForLog(
      (l) => l.component === 'http' && typeof l.port === 'number',
      'health server',
    );
    const port = listening.port as number;
    // A fresh database's tables are converted to partitioned ones by the start-up maintenance: a stop in the
    // middle of that leaves rows in the old heap until the next start (moved then), so wait for it.
    await run.waitForLog(
      (l) => l.component === 'storage' && typeof l.msg === 'string' && /^ticks: .* dropped/.test(l.msg),
      'the ticks table converted',
    );
    // Mid-stream: wait (by polling the daemon's own health endpoint) until thousands of trades went through.
    // No iteration cap: on a loaded machine this takes longer, and the test's timeout is the bound.
    let h = await health(port);
    while (h.feed.trades < 5_000) {
      await new Promise((r) => setTimeout(r, 100));
      h = await health(port);
    }
    expect(h.feed.trades).toBeGreaterThanOrEqual(5_000);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    run.proc.kill('SIGTERM');
    const exit = await run.exited;
    expect(exit.code).toBe(0);

    const stopped = run.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('stopped (SIGTERM)'));
    expect(stopped?.msg).toContain('nothing left unwritten');
    const fed = run.logs.find((l) => l.component === 'feed' && typeof l.endedBy === 'string');
    const received = fed?.trades as number;
    expect(received).toBeGreaterThanOrEqual(5_000);

    const db = createPool({ url, max: 1 });
    try {
      const q = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
      expect(await q('SELECT count(*) AS n FROM ticks')).toBe(received);
      // The official open/close reports (15, 16) update nothing, so they are in no candle.
      const counted = await q(`SELECT count(*) AS n FROM ticks WHERE NOT conditions && '{15,16}'`);
      expect(counted).toBeLessThan(received);
      expect(await q('SELECT sum(trade_count) AS n FROM candles_1s')).toBe(counted);
      expect(await q('SELECT sum(trade_count) AS n FROM candles_100t')).toBe(counted);
      // Every 100-tick candle but each symbol's last is full; the last (partial) one was written at shutdown.
      const partial = await db.query<{ symbol: string; n: string }>(
        `SELECT symbol, count(*) AS n FROM candles_100t WHERE trade_count < 100 GROUP BY symbol`,
      );
      for (const r of partial.rows) expect(Number(r.n), r.symbol).toBe(1);
      // Candle volumes agree with the raw ticks to the share, over the trades that update volume.
      expect(await q('SELECT sum(volume) AS n FROM candles_1s')).toBe(
        await q(`SELECT sum(size) AS n FROM ticks WHERE NOT conditions && '{15,16,38}'`),
      );
      // Odd lots (37) never set a price: no candle's high is above every regular print of its second.
      expect(
        await q(`SELECT count(*) AS n FROM candles_1s c WHERE c.high > (SELECT max(price) FROM ticks t
                 WHERE t.symbol = c.symbol AND t.ts >= c.bucket AND t.ts < c.bucket + interval '1 second'
                 AND NOT t.conditions && '{2,7,12,13,15,16,20,21,29,37,52,53}')`),
      ).toBe(0);
    } finally {
      await endPool(db);
    }
  }, 60_000);
});
