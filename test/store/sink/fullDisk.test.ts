// The sink with DATA_DIR on a really full disk (a filled tmpfs: writes fail with ENOSPC) while the database
// refuses connections: rows stay in memory up to the hard cap, nothing is left half-written on disk, every
// loss is counted, and a stop counts as spooled only what is durably on disk.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/store/db/connection.js';
import { Sink, type SinkOptions } from '../../../src/store/sink/sink.js';
import { type FullDisk, fullDisk } from '../../helpers/fullDisk.js';
import { pgTestDb, TEST_DATABASE_URL, type TestDb, waitFor } from '../../helpers/pg.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcpProxy.js';
import { sec } from '../candles.js';

let db: TestDb;
let proxy: TcpProxy;
let disk: FullDisk;
const sinks: Sink[] = [];

beforeAll(async () => {
  db = await pgTestDb('fulldisk');
  const u = new URL(TEST_DATABASE_URL);
  proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
  disk = fullDisk(['spool', 'dead-letters']);
});
afterAll(async () => {
  await proxy?.setMode('pass');
  await Promise.allSettled(sinks.map((s) => s.stop(2_000)));
  await proxy?.close();
  await db?.close();
  disk?.close();
});

function sink(opts: Partial<SinkOptions> = {}): Sink {
  const u = new URL(TEST_DATABASE_URL);
  u.port = String(proxy.port);
  const pool = createPool({
    url: u.toString(),
    searchPath: db.schema,
    queryTimeoutMs: 500,
    connectTimeoutMs: 500,
    max: 2,
  });
  const s = new Sink({
    pool,
    dataDir: disk.dir,
    flushMs: 20,
    retryBaseMs: 20,
    retryMaxMs: 100,
    batchRows: 50,
    maxBufferRows: 200,
    hardMaxRows: 1_000,
    ...opts,
  });
  sinks.push(s);
  return s;
}

async function rows(symbol: string): Promise<number> {
  const r = await db.admin.query(`SELECT count(*)::int AS n FROM candles_1s WHERE symbol = $1`, [symbol]);
  return r.rows[0].n;
}

const spoolEntries = () => readdirSync(join(disk.dir, 'spool'));

describe('sink on a full disk (tmpfs filled to ENOSPC)', () => {
  it('keeps rows in memory up to the hard cap, counts the rest as lost, leaves no temp file', async () => {
    await proxy.setMode('refuse');
    const s = sink();
    for (let i = 0; i < 3000; i++) s.push(sec('FULL', i));
    // Every spool write fails; each puts its rows back in memory, where the oldest beyond the cap go.
    await waitFor(
      () => s.stats.lostRows === 2000 && s.stats.bufferedRows === 1000,
      'memory at the hard cap and the rest counted lost',
    );
    expect(s.stats.spoolErrors).toBeGreaterThan(0);
    expect(s.stats.lastSpoolError).toMatch(/^ENOSPC /);
    expect(s.stats.spooledRows).toBe(0);
    expect(spoolEntries()).toEqual([]); // every failed .tmp was removed
    // The database returns: what memory held is written.
    await proxy.setMode('pass');
    await waitFor(async () => (await rows('FULL')) === 1000, 'the held rows to be written', 20_000);
    const summary = await s.stop(5_000);
    expect(summary).toMatchObject({ lostRows: 2000, spooledAtStop: 0 });
    expect(spoolEntries()).toEqual([]);
  }, 30_000);

  it('with the database up, rows the disk refused go to the database, even when stopping at once', async () => {
    await proxy.setMode('pass');
    const s = sink({ maxBufferRows: 100 });
    for (let i = 0; i < 400; i++) s.push(sec('UPFULL', i));
    const summary = await s.stop(10_000);
    expect(s.stats.spoolErrors).toBeGreaterThan(0);
    expect(summary).toMatchObject({ lostRows: 0, spooledAtStop: 0 });
    expect(await rows('UPFULL')).toBe(400);
    expect(spoolEntries()).toEqual([]);
  }, 30_000);

  it('a stop that cannot spool counts its rows as lost, never as spooled', async () => {
    await proxy.setMode('refuse');
    const s = sink();
    for (let i = 0; i < 150; i++) s.push(sec('STOPFULL', i));
    const summary = await s.stop(300);
    expect(summary.spooledAtStop).toBe(0);
    expect(summary.lostRows).toBe(150);
    expect(s.stats.spooledRows).toBe(0);
    expect(spoolEntries()).toEqual([]);
    await proxy.setMode('pass');
  }, 30_000);
});
