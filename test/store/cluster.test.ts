// A private throwaway cluster (never the shared 5432 one): libpq sslmode semantics against a TLS server,
// and a sink writing through a server stop of a few seconds (8 failed attempts; 20 s would exercise
// the same code path, kept short so the suite stays fast) without losing a row.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, endPool } from '../../src/store/db/connection.js';
import { migrate } from '../../src/store/schema/migrate.js';
import { Sink } from '../../src/store/sink/sink.js';
import { type PrivateCluster, startPrivateCluster, waitFor } from '../helpers/pg.js';
import { sec } from './candles.js';

let cluster: PrivateCluster;
/** A server without TLS: the shared one may have ssl on or off, so the fallback is tried on our own. */
let plain: PrivateCluster;
const pools: ReturnType<typeof createPool>[] = [];
const pool = (url: string, extra: Partial<Parameters<typeof createPool>[0]> = {}) => {
  const p = createPool({ url, connectTimeoutMs: 2_000, queryTimeoutMs: 2_000, ...extra });
  pools.push(p);
  return p;
};

beforeAll(async () => {
  cluster = await startPrivateCluster({ ssl: true });
  plain = await startPrivateCluster({ ssl: false });
});
afterAll(async () => {
  await Promise.allSettled(pools.map(endPool));
  cluster?.destroy();
  plain?.destroy();
});

const SSL_ON = 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()';

describe('sslmode (libpq meaning)', () => {
  it('require encrypts without verifying the self-signed certificate', async () => {
    const r = await pool(`${cluster.url}?sslmode=require`).query(SSL_ON);
    expect(r.rows[0].ssl).toBe(true);
  });

  it('prefer uses TLS when offered, disable never does', async () => {
    expect((await pool(`${cluster.url}?sslmode=prefer`).query(SSL_ON)).rows[0].ssl).toBe(true);
    expect((await pool(`${cluster.url}?sslmode=disable`).query(SSL_ON)).rows[0].ssl).toBe(false);
    // No sslmode in the URL: the PGSSLMODE option, else prefer.
    expect((await pool(cluster.url, { defaultSslMode: 'disable' }).query(SSL_ON)).rows[0].ssl).toBe(false);
    expect((await pool(cluster.url).query(SSL_ON)).rows[0].ssl).toBe(true);
  });

  it('prefer and allow fall back to plain on a server without TLS', async () => {
    expect((await pool(`${plain.url}?sslmode=prefer`).query('SELECT 1 AS one')).rows[0].one).toBe(1);
    expect((await pool(`${plain.url}?sslmode=allow`).query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await expect(pool(`${plain.url}?sslmode=require`).query('SELECT 1')).rejects.toThrow(
      /does not support SSL/,
    );
  });

  it('verify-full against the snakeoil certificate fails with a clear message', async () => {
    // Against the system roots: not trusted. Against its own cert as root: trusted, but not for 127.0.0.1.
    const sys = `${cluster.url}?sslmode=verify-full&sslrootcert=system`;
    await expect(pool(sys).query('SELECT 1')).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    const own = `${cluster.url}?sslmode=verify-full&sslrootcert=${cluster.caFile}`;
    await expect(pool(own).query('SELECT 1')).rejects.toThrow(
      /Hostname\/IP does not match|altnames|127\.0\.0\.1/i,
    );
    // verify-ca against the certificate itself as the root: chain OK, no host check.
    const ca = `${cluster.url}?sslmode=verify-ca&sslrootcert=${cluster.caFile}`;
    expect((await pool(ca).query(SSL_ON)).rows[0].ssl).toBe(true);
  });
});

describe('server stop/start', () => {
  it('keeps accepting rows through a server stop and loses nothing', async () => {
    const p = pool(`${cluster.url}?sslmode=require`, { max: 2 });
    await migrate(p);
    const dataDir = mkdtempSync(join(tmpdir(), 'tc-cluster-sink-'));
    const s = new Sink({ pool: p, dataDir, flushMs: 20, retryBaseMs: 50, retryMaxMs: 500, batchRows: 200 });
    let i = 0;
    const pushSome = (n: number) => {
      for (const end = i + n; i < end; i++) s.push(sec('OUTG', i));
    };
    pushSome(500);
    await waitFor(() => s.stats.rowsWritten.candles_1s >= 500, 'writes before the stop');
    cluster.stop();
    // The outage lasts until the sink has failed and backed off 8 times (~2-4 s with a 500 ms cap), rows
    // arriving all along; waits are on the sink's own counters, never on fixed sleeps.
    while (s.stats.retries < 8) {
      pushSome(100);
      const seen = s.stats.retries;
      await waitFor(() => s.stats.retries > seen, 'the next failed attempt');
    }
    expect(s.stats.connected).toBe(false);
    cluster.start();
    pushSome(300);
    await waitFor(() => s.stats.bufferedRows === 0, 'the backlog to drain after the restart', 30_000);
    const summary = await s.stop(10_000);
    expect(summary.spooledAtStop).toBe(0);
    const r = await p.query(`SELECT count(*)::int AS n FROM candles_1s WHERE symbol = 'OUTG'`);
    expect(r.rows[0].n).toBe(i);
    expect(s.stats.retries).toBeGreaterThan(0);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);
});
