// The whole tape, as the check runs it: a stand-in serving the WebSocket and the tick API over one
// tape; a 4 s outage with reconnects refused; kill -9 and a restart 4 s later; SIGTERM; then
// `tick-collector backfill` with the same environment (the API answering one 429 and one 500). Every stored
// candle must equal the one an independent oracle computes from the whole tape, and every gap must be filled.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPDATES_ALL } from '../../src/aggregate/conditions.js';
import type { Candle, Trade } from '../../src/aggregate/types.js';
import { createPool, endPool } from '../../src/store/db/connection.js';
import { migrate } from '../../src/store/schema/migrate.js';
import { referenceSeconds, referenceTicks } from '../aggregate/reference.js';
import { CONDITIONS, type StandIn, startStandIn } from '../backfill/standIn.js';
import { type CliRun, runCli, runCliToEnd } from '../helpers/cli.js';
import { TEST_DATABASE_URL } from '../helpers/pg.js';

const dbName = `tc_e2e_backfill_${process.pid}`;
const admin = createPool({ url: TEST_DATABASE_URL, max: 1 });
const dataDir = mkdtempSync(join(tmpdir(), 'tc-e2e-backfill-'));
const SYMBOLS = ['AAPL', 'MSFT'];
let url = '';
let standIn: StandIn;

beforeAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
  await admin.query(`CREATE DATABASE ${dbName}`);
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${dbName}`;
  url = u.toString();
  standIn = await startStandIn(SYMBOLS, 60);
});

afterAll(async () => {
  await standIn?.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await endPool(admin);
  rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stored row (snake_case) equal to the oracle's candle, vwap to 1e-9. */
function sameCandle(c: Candle | undefined, x: Record<string, unknown>): boolean {
  return (
    c !== undefined &&
    c.open === x.open &&
    c.high === x.high &&
    c.low === x.low &&
    c.close === x.close &&
    c.volume === x.volume &&
    c.tradeCount === x.trade_count &&
    Math.abs((c.vwap ?? 0) - ((x.vwap as number | null) ?? 0)) < 1e-9
  );
}

async function trades(port: number): Promise<number> {
  const h = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { feed: { trades: number } };
  return h.feed.trades;
}

async function started(env: NodeJS.ProcessEnv): Promise<{ run: CliRun; port: number }> {
  const run = runCli(['run'], env);
  const l = await run.waitForLog((x) => x.component === 'http' && typeof x.port === 'number', 'health');
  const port = l.port as number;
  for (let i = 0; i < 300 && (await trades(port)) < 100; i++) await sleep(100);
  return { run, port };
}

describe('backfill end to end', () => {
  it('refuses a DATABASE_URL without EODHD_API_TOKEN (one line, exit 2): the simulator tape is never its truth', async () => {
    const db = createPool({ url, max: 1 });
    try {
      await migrate(db);
      const t = Date.UTC(2026, 2, 2, 15, 0, 0);
      await db.query(
        `INSERT INTO candles_1s (symbol, bucket, open, high, low, close, volume, trade_count, vwap, first_trade_at, last_trade_at)
         VALUES ('AAPL', to_timestamp($1 / 1000.0), 1, 1, 1, 1, 5, 1, 1, to_timestamp($1 / 1000.0), to_timestamp($1 / 1000.0))`,
        [t],
      );
      await db.query(
        `INSERT INTO feed_gaps (symbol, symbols, started_at, ended_at, reason)
         VALUES ('AAPL', '{AAPL}', to_timestamp($1 / 1000.0), to_timestamp($2 / 1000.0), 'x')`,
        [t - 1000, t + 1000],
      );
      for (const extra of [{}, { FEED: 'sim' }]) {
        const r = await runCliToEnd(['backfill'], { DATABASE_URL: url, DATA_DIR: dataDir, ...extra });
        expect(r.code, r.stdout + r.stderr).toBe(2);
        expect(r.stderr).toMatch(/^tick-collector: EODHD_API_TOKEN is required when DATABASE_URL is set/);
        expect(r.stderr.trim().split('\n').length).toBe(1);
      }
      expect((await db.query('SELECT count(*)::int AS n FROM candles_1s')).rows[0].n).toBe(1);
      expect((await db.query('SELECT filled_at FROM feed_gaps')).rows[0].filled_at).toBeNull();
      await db.query('TRUNCATE candles_1s, candles_1m, feed_gaps');
    } finally {
      await endPool(db);
    }
  });

  it('outage, kill -9, restart, SIGTERM, backfill: every candle equals the whole tape', async () => {
    const env = {
      DATABASE_URL: url,
      EODHD_API_TOKEN: 'tok',
      EODHD_WS_URL: standIn.wsUrl,
      EODHD_API_URL: standIn.apiUrl,
      SKIP_MARKET_HOURS: 'true',
      SYMBOLS: SYMBOLS.join(','),
      PORT: '0',
      DATA_DIR: dataDir,
      CANDLE_LATENESS_MS: '1000',
      CANDLE_GRACE_MS: '500',
      RECONNECT_BASE_MS: '100',
      RECONNECT_MAX_MS: '300',
    };
    const first = await started(env);
    await sleep(2_000);
    standIn.refuse(true);
    await sleep(4_000);
    standIn.refuse(false);
    const before = await trades(first.port);
    for (let i = 0; i < 100 && (await trades(first.port)) <= before + 100; i++) await sleep(100);
    await sleep(1_500);
    first.run.proc.kill('SIGKILL');
    await first.run.exited;
    await sleep(4_000);
    const second = await started(env);
    await sleep(2_000);
    second.run.proc.kill('SIGTERM');
    expect((await second.run.exited).code).toBe(0);
    standIn.freeze();

    standIn.script.push({ status: 429, headers: { 'retry-after': '1' } }, { status: 500 });
    // A dry run first: it says what it would replace, per table, and writes nothing.
    const counts = async () => {
      const db = createPool({ url, max: 1 });
      try {
        const q = await db.query(
          `SELECT (SELECT count(*) FROM candles_1s)::int AS s, (SELECT count(*) FROM candles_100t)::int AS t,
                  (SELECT count(*) FROM coverage WHERE source = 'tape')::int AS c,
                  (SELECT count(*) FROM feed_gaps WHERE filled_at IS NOT NULL)::int AS f`,
        );
        return q.rows[0];
      } finally {
        await endPool(db);
      }
    };
    const stored = await counts();
    const dry = await runCliToEnd(['backfill', '--dry-run'], env);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would fill \d+ trades \(candles_1s: replace \d+, delete \d+, insert \d+/);
    expect(dry.stdout).toMatch(/dry run, nothing written; would change candles_1s: replace/);
    expect(await counts()).toEqual(stored);
    const r = await runCliToEnd(['backfill'], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/failed 0|0 failed/);
    expect(r.stdout).not.toContain('tok');
    // The filled gaps are covered by the tape now: a second run derives no gap and asks nothing.
    const again = await runCliToEnd(['backfill'], env);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^no unfilled gaps/);
    const listed = await runCliToEnd(['gaps', '--json'], env);
    expect(listed.code).toBe(0);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { filledAt: string | null });
    // Derived from coverage: the outage and the kill (which came before coverage after the reconnect was
    // confirmed) may be one uncovered stretch; the last seconds before SIGTERM are another.
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.every((g) => g.filledAt !== null)).toBe(true);
    const bad = await runCliToEnd(['backfill', '--date', '2026-02-30'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tick-collector: --date /);

    // The oracle: the whole tape in seq order, under the condition rules (the reference's own copy of them,
    // read from the ids the stand-in sent with each print's letters).
    const idsOf = new Map(CONDITIONS.map(([sl, ids]) => [sl, ids]));
    const all: Trade[] = [];
    for (const s of SYMBOLS) {
      for (const p of standIn.tape[s]!) {
        all.push({
          symbol: s,
          price: p.price,
          size: p.shares,
          ts: p.ts,
          conditions: idsOf.get(p.sl)!,
          flags: UPDATES_ALL,
          darkPool: false,
          marketStatus: null,
          seq: p.seq,
          receivedAt: p.ts,
        });
      }
    }
    all.sort((a, b) => a.seq - b.seq);
    const refS = referenceSeconds(
      all.map((trade) => ({ kind: 'trade' as const, trade })),
      { intervalMs: 1000, latenessMs: Number.POSITIVE_INFINITY },
    ).candles;
    const refT = referenceTicks(all, 100).candles;

    const db = createPool({ url, max: 1 });
    try {
      const s = await db.query(
        `SELECT symbol, (extract(epoch FROM bucket) * 1000)::float8 AS b, open, high, low, close, volume,
                trade_count, vwap FROM candles_1s`,
      );
      expect(s.rows.length).toBeGreaterThan(10);
      let bad1s = 0;
      for (const x of s.rows) {
        const c = refS.get(`1s ${x.symbol} ${Math.round(x.b)}`);
        if (!sameCandle(c, x)) bad1s++;
      }
      expect(bad1s).toBe(0);
      const t = await db.query(
        `SELECT symbol, session_date::text AS d, seq, open, high, low, close, volume, trade_count, vwap
         FROM candles_100t`,
      );
      expect(t.rows.length).toBeGreaterThan(5);
      let bad100t = 0;
      for (const x of t.rows) {
        const c = refT.get(`t ${x.symbol} ${x.d} ${x.seq}`);
        if (!sameCandle(c, x)) bad100t++;
      }
      expect(bad100t).toBe(0);
      const gaps = await db.query('SELECT reason, filled_at FROM feed_gaps ORDER BY started_at');
      // The derived ledger names the outage (with the kill -9 and restart inside it) and the stop.
      expect(gaps.rows.map((g) => g.reason)).toEqual(expect.arrayContaining(['stopped']));
      expect(gaps.rows.some((g) => /closed|refused|lost|drop|error|socket/i.test(g.reason))).toBe(true);
      expect(gaps.rows.every((g) => g.filled_at !== null)).toBe(true);
    } finally {
      await endPool(db);
    }
  }, 120_000);
});
