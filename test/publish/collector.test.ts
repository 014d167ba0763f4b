// The whole collector (the real command) on PostgreSQL with the simulated feed, publishing to a private
// nats-server that is stopped for a while and started again on its store; then a second replica takes over
// (a rolling deploy). After SIGTERM an independent reading of the stream must hold: every candles_1s,
// candles_100t and candles_1m row has messages whose latest revision equals it, no key and revision is stored
// twice, no message names a candle the database lacks, and trades kept being stored during the outage.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthSnapshot } from '../../src/http/snapshot.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { type NatsServer, readStream, startNatsServer } from '../helpers/nats.js';
import { TEST_DATABASE_URL, waitFor } from '../helpers/pg.js';
import { latestBy, rowsAsMessages } from './streamCheck.js';

const dbName = `tc_publish_e2e_${process.pid}`;
const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
let url: string;
let db: pg.Pool;
let nats: NatsServer;
const runs: CliRun[] = [];

beforeAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
  await admin.query(`CREATE DATABASE ${dbName}`);
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${dbName}`;
  url = u.toString();
  db = new pg.Pool({ connectionString: url, max: 1 });
  db.on('error', () => undefined);
  nats = await startNatsServer();
});

afterAll(async () => {
  for (const r of runs) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
  await Promise.allSettled(runs.map((r) => r.exited));
  await nats?.close();
  await db?.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
});

function start(name: string): CliRun {
  const run = runCli(['run'], {
    DATABASE_URL: url,
    FEED: 'sim',
    SIM_RATE: '400',
    SYMBOLS: 'AAPL,MSFT,BRK.B,NVDA',
    MAX_SYMBOLS_PER_CONNECTION: '2',
    PORT: '0',
    DATA_DIR: `/tmp/tc-e2e-publish-${process.pid}-${name}`,
    NATS_URL: nats.url,
  });
  runs.push(run);
  return run;
}

async function health(run: CliRun): Promise<HealthSnapshot> {
  const l = await run.waitForLog(
    (x) => x.component === 'http' && typeof x.port === 'number',
    'health server',
  );
  return (await (await fetch(`http://127.0.0.1:${l.port}/health`)).json()) as HealthSnapshot;
}

const count = async (sql: string): Promise<number> => Number((await db.query(sql)).rows[0].n);

describe('the collector publishing to NATS', () => {
  it('through a NATS outage and a handover: the stream equals the tables, nothing twice', async () => {
    const a = start('a');
    await a.waitForLog((l) => String(l.msg).includes('NATS: publishing to'), 'the banner says it publishes');
    await waitFor(async () => (await health(a)).publish.published > 20, 'candles published', 60_000);

    await nats.stop();
    const before = await count('SELECT count(*) AS n FROM candles_1s');
    await waitFor(async () => (await health(a)).publish.state === 'down', 'the publisher down');
    // Collecting goes on: a few hundred more candles are stored while NATS is down.
    await waitFor(
      async () => (await count('SELECT count(*) AS n FROM candles_1s')) > before + 50,
      'stored meanwhile',
      60_000,
    );
    const pending = (await health(a)).publish.pending;
    expect(pending).toBeGreaterThan(0);

    await nats.start();
    await waitFor(
      async () => (await health(a)).publish.republished >= pending,
      'the outage caught up',
      60_000,
    );

    // A rolling deploy: b starts, takes its share of the shards, a stops.
    const b = start('b');
    await waitFor(async () => ((await health(b)).cluster?.held.length ?? 0) > 0, 'b holds a shard', 60_000);
    a.proc.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
    await waitFor(
      async () => ((await health(b)).cluster?.held.length ?? 0) === 2,
      'b holds every shard',
      60_000,
    );
    await waitFor(async () => (await health(b)).publish.published > 0, 'b publishes', 60_000);
    b.proc.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);

    const msgs = await readStream(nats.url, 'CANDLES');
    const rows = await rowsAsMessages(db);
    const latest = latestBy(msgs);
    expect(rows.size).toBeGreaterThan(100);
    const missing = [...rows].filter(([k, v]) => latest.get(k)?.revision !== v.revision).map(([k]) => k);
    const extra = [...latest.keys()].filter((k) => !rows.has(k));
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
    // Every row has messages whose latest revision equals it, and no message names a candle the table lacks.
    expect(latest).toEqual(rows);
    const ids = msgs.map((m) => m.msgId);
    expect(new Set(ids).size).toBe(ids.length);
  }, 240_000);
});
