// Faults between the sink and the real server: nothing pushed may be missing at the end.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/store/db/connection.js';
import { loadOpenTickCandles } from '../../../src/store/read/queries.js';
import { Sink, type SinkOptions } from '../../../src/store/sink/sink.js';
import { Spool } from '../../../src/store/sink/spool.js';
import { pgTestDb, TEST_DATABASE_URL, type TestDb, waitFor } from '../../helpers/pg.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcpProxy.js';
import { sec, tick } from '../candles.js';

let db: TestDb;
let proxy: TcpProxy;
let dataDir: string;
const sinks: Sink[] = [];

beforeAll(async () => {
  db = await pgTestDb('faults');
  const u = new URL(TEST_DATABASE_URL);
  proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
  dataDir = mkdtempSync(join(tmpdir(), 'tc-faults-'));
});
afterAll(async () => {
  await proxy?.setMode('pass');
  await Promise.allSettled(sinks.map((s) => s.stop(2_000)));
  await proxy?.close();
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function viaProxy(): string {
  const u = new URL(TEST_DATABASE_URL);
  u.port = String(proxy.port);
  return u.toString();
}

function sink(pool = db.pool(), opts: Partial<SinkOptions> = {}): Sink {
  const s = new Sink({
    pool,
    dataDir,
    flushMs: 20,
    retryBaseMs: 20,
    retryMaxMs: 200,
    batchRows: 100,
    ...opts,
  });
  sinks.push(s);
  return s;
}

const fastPool = () =>
  createPool({ url: viaProxy(), searchPath: db.schema, queryTimeoutMs: 500, connectTimeoutMs: 500, max: 2 });

async function rows(symbol: string): Promise<number> {
  const r = await db.admin.query(`SELECT count(*)::int AS n FROM candles_1s WHERE symbol = $1`, [symbol]);
  return r.rows[0].n;
}

describe('sink under faults (real PostgreSQL)', () => {
  it('survives pg_terminate_backend on its connections mid-stream', async () => {
    const app = `${db.schema}_term`;
    const s = sink(db.pool({ applicationName: app }));
    let killed = 0;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 500; i++) s.push(sec('TERM', round * 500 + i));
      await waitFor(() => s.stats.rowsWritten.candles_1s > round * 500, 'some writes');
      const r = await db.admin.query(
        'SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t',
        [app],
      );
      killed += r.rows[0].n;
    }
    const summary = await s.stop(20_000);
    expect(killed).toBeGreaterThan(0);
    expect(summary.spooledAtStop).toBe(0);
    expect(await rows('TERM')).toBe(3000);
  });

  it('retries through a reset and a black hole (query_timeout fires), then catches up', async () => {
    const s = sink(fastPool());
    for (let i = 0; i < 200; i++) s.push(sec('PROX', i));
    await waitFor(() => s.stats.rowsWritten.candles_1s >= 200, 'first writes');
    await proxy.setMode('reset');
    for (let i = 200; i < 400; i++) s.push(sec('PROX', i));
    await waitFor(() => s.stats.retries > 0, 'a retry after the reset');
    await proxy.setMode('pass');
    await waitFor(() => s.stats.rowsWritten.candles_1s >= 400, 'writes after the reset');
    await proxy.setMode('blackhole');
    const retries = s.stats.retries;
    for (let i = 400; i < 600; i++) s.push(sec('PROX', i));
    await waitFor(() => s.stats.retries > retries, 'a timeout in the black hole');
    expect(s.stats.lastError).toMatch(/timeout/i);
    expect(s.stats.connected).toBe(false);
    await proxy.setMode('pass');
    await waitFor(() => s.stats.bufferedRows === 0, 'the backlog to drain');
    await s.stop(10_000);
    expect(s.stats.connected).toBe(true);
    expect(await rows('PROX')).toBe(600);
  });

  it('retries a statement timeout (57014) until the lock is gone', async () => {
    const s = sink(db.pool({ statementTimeoutMs: 100 }));
    const locker = await db.admin.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE candles_1s IN ACCESS EXCLUSIVE MODE');
      for (let i = 0; i < 50; i++) s.push(sec('STMT', i));
      await waitFor(() => s.stats.retries > 0, 'a statement timeout');
      expect(s.stats.lastError).toMatch(/^57014 /);
      await locker.query('COMMIT');
    } finally {
      locker.release();
    }
    await s.stop(10_000);
    expect(s.stats.deadLettered).toBe(0);
    expect(await rows('STMT')).toBe(50);
  });

  it('spools the oldest rows when the buffer is full and replays them after recovery', async () => {
    await proxy.setMode('refuse');
    const s = sink(fastPool(), { maxBufferRows: 200, batchRows: 50 });
    for (let i = 0; i < 2000; i++) s.push(sec('SPOL', i));
    expect(s.stats.bufferedRows).toBeLessThanOrEqual(200);
    await waitFor(() => s.stats.spooledRows >= 1800, 'the overflow to reach the spool');
    await proxy.setMode('pass');
    await waitFor(async () => (await rows('SPOL')) === 2000, 'spooled rows to be replayed', 30_000);
    const summary = await s.stop(10_000);
    expect(summary.spooledAtStop).toBe(0);
    expect(s.stats.replayedRows).toBe(s.stats.spooledRows);
  }, 60_000);

  it('spools what it cannot write by the stop deadline; the next start replays it', async () => {
    await proxy.setMode('refuse');
    const dir = mkdtempSync(join(tmpdir(), 'tc-stop-'));
    const first = new Sink({ pool: fastPool(), dataDir: dir, flushMs: 20, retryBaseMs: 20, retryMaxMs: 100 });
    for (let i = 0; i < 300; i++) first.push(sec('STOP', i));
    const t0 = Date.now();
    const summary = await first.stop(300);
    expect(Date.now() - t0).toBeLessThan(2_000); // the deadline holds while the database is away
    expect(summary.spooledAtStop).toBe(300);
    expect(readdirSync(join(dir, 'spool')).length).toBeGreaterThan(0);
    await proxy.setMode('pass');
    const t1 = Date.now();
    const second = sink(fastPool(), { dataDir: dir });
    await waitFor(async () => (await rows('STOP')) === 300, 'the next start to replay', 30_000);
    expect(Date.now() - t1).toBeLessThan(10_000);
    await second.stop(5_000);
    expect(readdirSync(join(dir, 'spool'))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('after a start-up replay, rows spooled in this run are replayed in this run too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tc-rearm-'));
    // An earlier run left 500 rows; this run replays them first.
    await new Spool(dir).write(
      'candles_100t',
      Array.from({ length: 500 }, (_, i) => tick('LEFT', i)),
    );
    const s = sink(db.pool(), { dataDir: dir, maxBufferRows: 100, batchRows: 50 });
    await waitFor(() => s.stats.replayedRows === 500, 'the leftover file to be replayed');
    // Then fewer rows than that overflow the buffer and go to the spool.
    for (let i = 0; i < 300; i++) s.push(tick('REARM', i));
    await waitFor(() => s.stats.spooledRows > 0, 'an overflow to the spool');
    expect(s.stats.spooledRows).toBeLessThan(500);
    const t0 = Date.now();
    expect(await s.spoolDrained(undefined, 10_000)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(readdirSync(join(dir, 'spool'))).toEqual([]);
    // (the file is removed just before its rows are counted as replayed)
    await waitFor(() => s.stats.replayedRows === 500 + s.stats.spooledRows, 'every spooled row replayed');
    await s.stop(5_000);
    const r = await db.admin.query(`SELECT count(*)::int AS n FROM candles_100t WHERE symbol = 'REARM'`);
    expect(r.rows[0].n).toBe(300);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('spoolDrained: a restart resumes 100-tick candles only after the spooled ones are in the table', async () => {
    await proxy.setMode('refuse');
    const dir = mkdtempSync(join(tmpdir(), 'tc-drained-'));
    const first = new Sink({ pool: fastPool(), dataDir: dir, flushMs: 20, retryBaseMs: 20, retryMaxMs: 100 });
    first.push(tick('SPRE', 0, 100));
    first.push(tick('SPRE', 1, 42));
    expect((await first.stop(300)).spooledAtStop).toBe(2);
    // While the database is still away, waiting is bounded: collecting must not hang on an outage.
    const waiting = sink(fastPool(), { dataDir: dir });
    expect(await waiting.spoolDrained(undefined, 300)).toBe(false);
    await waiting.stop(300);
    await proxy.setMode('pass');
    const second = sink(fastPool(), { dataDir: dir });
    expect(await second.spoolDrained(undefined, 20_000)).toBe(true);
    const open = await loadOpenTickCandles(db.admin, tick('SPRE', 0, 1).sessionDate, ['SPRE']);
    expect(open).toEqual([tick('SPRE', 1, 42)]);
    await second.stop(5_000);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
