// The real daemon with DATA_DIR on a full disk (a filled tmpfs) through a database outage: the rows it
// could neither write nor spool show in /metrics and keep /health degraded after the database is back,
// and SIGTERM then exits non-zero with the loss in the last line (never "spooled").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthSnapshot } from '../../src/http/snapshot.js';
import { createPool, endPool } from '../../src/store/db/connection.js';
import { runCli } from '../helpers/cli.js';
import { type FullDisk, fullDisk } from '../helpers/fullDisk.js';
import { TEST_DATABASE_URL, waitFor } from '../helpers/pg.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const dbName = `tc_e2e_fulldisk_${process.pid}`;
const admin = createPool({ url: TEST_DATABASE_URL, max: 1 });
let proxy: TcpProxy;
let disk: FullDisk;
let url = '';

beforeAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
  await admin.query(`CREATE DATABASE ${dbName}`);
  const u = new URL(TEST_DATABASE_URL);
  proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
  u.port = String(proxy.port);
  u.pathname = `/${dbName}`;
  url = u.toString();
  disk = fullDisk(['spool', 'dead-letters']);
});

afterAll(async () => {
  await proxy?.close();
  disk?.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await endPool(admin);
});

async function health(port: number): Promise<HealthSnapshot> {
  return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as HealthSnapshot;
}

describe('the daemon on a full disk', () => {
  it('counts lost rows in /metrics, stays degraded after recovery, and exits 1 on SIGTERM', async () => {
    const run = runCli(['run'], {
      DATABASE_URL: url,
      FEED: 'sim',
      SIM_RATE: '3000',
      SYMBOLS: 'AAPL,MSFT,SPY',
      ARCHIVE_TICKS: 'true',
      PORT: '0',
      DATA_DIR: disk.dir,
      SINK_MAX_BUFFER_ROWS: '2000',
      SINK_HARD_MAX_ROWS: '3000',
      DB_QUERY_TIMEOUT_MS: '1000',
      DB_CONNECT_TIMEOUT_MS: '500',
      SHUTDOWN_TIMEOUT_MS: '8000',
    });
    try {
      const listening = await run.waitForLog(
        (l) => l.component === 'http' && typeof l.port === 'number',
        'health server',
      );
      const port = listening.port as number;
      await waitFor(async () => (await health(port)).sink.rowsWritten > 0, 'first writes', 20_000);

      await proxy.setMode('reset'); // the database goes away: the buffer fills, the spool cannot be written
      await waitFor(async () => (await health(port)).sink.lostRows > 0, 'rows lost at the hard cap', 20_000);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const lost = Number(/^tick_collector_sink_lost_rows_total (\d+)$/m.exec(metrics)?.[1]);
      expect(lost).toBeGreaterThan(0);
      expect(Number(/^tick_collector_sink_spool_errors_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);

      await proxy.setMode('pass');
      await waitFor(
        async () => {
          const h = await health(port);
          return h.sink.connected && h.sink.bufferedRows < 2000;
        },
        'the database back and the buffer drained',
        20_000,
      );
      const after = await health(port);
      expect(after.status).toBe('degraded'); // until a restart
      expect(after.sink.lostRows).toBeGreaterThanOrEqual(lost);
      expect(after.sink.spooledRows).toBe(0);

      run.proc.kill('SIGTERM');
      const exit = await run.exited;
      expect(exit.code).toBe(1);
      const stopped = run.logs.find(
        (l) => typeof l.msg === 'string' && l.msg.startsWith('stopped (SIGTERM)'),
      );
      expect(stopped?.msg).toContain(`0 rows spooled`);
      expect(stopped?.lostRows).toBeGreaterThanOrEqual(after.sink.lostRows);
      expect(stopped?.msg).toContain(`${stopped?.lostRows} lost`);
      // The drain itself completed: the exit code is the loss, not a timeout.
      expect(run.logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('shutdown complete'))).toBe(
        true,
      );
    } finally {
      if (run.proc.exitCode === null) run.proc.kill('SIGKILL');
    }
  }, 90_000);
});
