// Replicas as they run on Railway: real collector processes (the CLI) on one database, the simulated feed.
// A rolling deploy (start new, stop old) hands the shards over with one derived gap per handover; kill -9 of
// one has the survivor subscribe every symbol within 15 s; a black-holed database link is fenced by lease.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthSnapshot } from '../../src/http/snapshot.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { TEST_DATABASE_URL, waitFor } from '../helpers/pg.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const dbName = `tc_e2e_replicas_${process.pid}`;
const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
let url = '';
let db: pg.Pool;
const runs: CliRun[] = [];
let proxy: TcpProxy | null = null;

// 12 symbols, 3 per connection: 4 shards.
const SYMBOLS = 'AAPL,MSFT,SPY,QQQ,NVDA,AMD,TSLA,META,AMZN,GOOG,NFLX,INTC';

beforeAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
  await admin.query(`CREATE DATABASE ${dbName}`);
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${dbName}`;
  url = u.toString();
  db = new pg.Pool({ connectionString: url, max: 1 });
  db.on('error', () => undefined);
});

afterAll(async () => {
  for (const r of runs) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
  await Promise.allSettled(runs.map((r) => r.exited));
  await proxy?.close();
  await db.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
});

function start(name: string, databaseUrl = url): CliRun {
  const run = runCli(['run'], {
    DATABASE_URL: databaseUrl,
    FEED: 'sim',
    SIM_RATE: '200',
    SYMBOLS,
    MAX_SYMBOLS_PER_CONNECTION: '3',
    PORT: '0',
    DATA_DIR: `/tmp/tc-e2e-replicas-${process.pid}-${name}`,
    DB_QUERY_TIMEOUT_MS: '3000',
  });
  runs.push(run);
  return run;
}

async function portOf(run: CliRun): Promise<number> {
  const l = await run.waitForLog(
    (x) => x.component === 'http' && typeof x.port === 'number',
    'health server',
  );
  return l.port as number;
}

async function health(port: number): Promise<HealthSnapshot> {
  return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as HealthSnapshot;
}

const held = async (port: number) => (await health(port)).cluster?.held.length ?? -1;
const streaming = async (port: number) => {
  const h = await health(port);
  return h.feed.subscribedSymbols;
};

describe('replicas on one database', () => {
  it('rolling deploy: start new, stop old — shards handed over, one gap row per handover, exit 0', async () => {
    const old = start('old');
    const oldPort = await portOf(old);
    await waitFor(
      async () => (await held(oldPort)) === 4 && (await streaming(oldPort)) === 12,
      'old: 4 shards',
    );
    // Coverage confirmed on every connection first: each hand-over then borders coverage on both sides.
    await waitFor(
      async () => ((await health(oldPort)).ledger?.confirmedTo ?? null) !== null,
      'old: coverage',
    );
    const fresh = start('new');
    const newPort = await portOf(fresh);
    // Fair share: 2 and 2, each subscribed only to its own shards.
    await waitFor(
      async () =>
        (await held(oldPort)) === 2 && (await held(newPort)) === 2 && (await streaming(newPort)) === 6,
      'a 2/2 split',
    );
    expect(await streaming(oldPort)).toBe(6);
    const h = await health(newPort);
    expect(h.cluster!.collectors).toHaveLength(2);
    expect(h.status).toBe('ok');
    old.proc.kill('SIGTERM');
    expect((await old.exited).code).toBe(0);
    const oldStopped = new Date().toISOString();
    await waitFor(async () => (await streaming(newPort)) === 12, 'new: every symbol', 15_000);
    // The gaps are derived from coverage: wait until the database confirmed the new one's candles past the
    // hand-over on every connection (its least advanced one), then stop it.
    await waitFor(
      async () => ((await health(newPort)).ledger?.confirmedTo ?? '') > oldStopped,
      'new: coverage confirmed past the hand-over',
      30_000,
    );
    fresh.proc.kill('SIGTERM');
    expect((await fresh.exited).code).toBe(0);
    const all = await db.query<{ symbol: string; symbols: string[]; reason: string; ms: number }>(
      `SELECT symbol, symbols, reason, extract(epoch FROM ended_at - started_at) * 1000 AS ms FROM feed_gaps ORDER BY id`,
    );
    // Without the calendar the span is the runs': it starts with the first run's start-up (until each shard's
    // first confirmed trade) and ends with the last one's last seconds (`stopped`, nobody taking over).
    for (const g of all.rows.filter((x) => x.reason === 'start' || x.reason === 'stopped'))
      expect(Number(g.ms)).toBeLessThan(15_000);
    const gaps = { rows: all.rows.filter((x) => x.reason !== 'start' && x.reason !== 'stopped') };
    // Two shards handed over at the split, two at the old one's stop; nothing else: every symbol in exactly
    // one handover gap, each a few seconds (the old owner's last confirmed trade to the new one's first).
    expect(new Set(gaps.rows.map((g) => g.reason))).toEqual(new Set(['handover']));
    const handed = gaps.rows.flatMap((g) => g.symbols).sort();
    expect(handed).toEqual(SYMBOLS.split(',').sort());
    for (const g of gaps.rows) {
      expect(Number(g.ms)).toBeGreaterThan(0);
      expect(Number(g.ms)).toBeLessThan(15_000);
    }
    console.log(`handover gaps (ms): ${gaps.rows.map((g) => Math.round(Number(g.ms))).join(', ')}`);
  }, 90_000);

  it('kill -9 of one: the survivor subscribes every symbol within 15 s', async () => {
    const a = start('a');
    const aPort = await portOf(a);
    await waitFor(async () => (await streaming(aPort)) === 12, 'a: every symbol');
    const b = start('b');
    const bPort = await portOf(b);
    await waitFor(async () => (await held(aPort)) === 2 && (await streaming(bPort)) === 6, 'a 2/2 split');
    const t0 = Date.now();
    b.proc.kill('SIGKILL');
    await waitFor(async () => (await streaming(aPort)) === 12, 'a: every symbol again', 15_000);
    const took = Date.now() - t0;
    console.log(`takeover after kill -9: ${took} ms`);
    expect(took).toBeLessThan(15_000);
    a.proc.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
  }, 90_000);

  it('a black-holed host (its closes never reach the server): the survivor fences it after the lease', async () => {
    const u = new URL(url);
    proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    const a = start('bh-a');
    const aPort = await portOf(a);
    await waitFor(async () => (await streaming(aPort)) === 12, 'a: every symbol');
    const b = start('bh-b', viaProxy.toString());
    const bPort = await portOf(b);
    await waitFor(async () => (await held(aPort)) === 2 && (await streaming(bPort)) === 6, 'a 2/2 split');
    const t0 = Date.now();
    await proxy.setMode('partition');
    // a fences b once b's heartbeat is older than the lease, and takes its shards.
    await waitFor(async () => (await streaming(aPort)) === 12, 'a: every symbol again', 20_000);
    const took = Date.now() - t0;
    // b, cut off from the database, collects on (a database outage must not stop collecting); the write
    // fence keeps its rows out now that a holds its shards.
    expect(await streaming(bPort)).toBe(6);
    // The link heals: b's next lock session finds its shards taken and stops their feeds.
    await proxy.setMode('pass');
    await waitFor(
      async () => (await held(bPort)) === 0 && (await streaming(bPort)) === 0,
      'b gives up the shards a took',
      20_000,
    );
    console.log(
      `black-holed: takeover after ${took} ms, the peer stopped ${Date.now() - t0} ms after the cut`,
    );
    expect(took).toBeLessThan(20_000);
    expect((await health(aPort)).cluster!.fenced).toBe(1);
    b.proc.kill('SIGKILL');
    a.proc.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
  }, 90_000);
});
