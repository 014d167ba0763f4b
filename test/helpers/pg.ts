// Real databases for tests: a fresh schema per test file on the shared server (TEST_DATABASE_URL), the
// embedded PGlite in a temp dir, and a private throwaway cluster (initdb + pg_ctl on a free port) for
// stop/start and TLS tests — the shared 5432 cluster is never stopped.

import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { createPool, endPool, type PoolOptions } from '../../src/store/db/connection.js';
import { startEmbedded } from '../../src/store/db/embedded.js';
import { migrate } from '../../src/store/schema/migrate.js';
import { backstop } from './backstop.js';

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDb {
  kind: 'postgres' | 'pglite';
  url: string;
  /** The schema on the shared server (undefined for PGlite: its own database). */
  schema: string | undefined;
  /** A migrated pool on the test database; ended by close(). */
  pool(opts?: Partial<PoolOptions>): pg.Pool;
  /** For assertions: a pool that is never the one under test. */
  admin: pg.Pool;
  close(): Promise<void>;
}

function uniqueName(label: string): string {
  return `tc_${label.replace(/\W/g, '_').toLowerCase()}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
}

/**
 * A fresh, migrated schema on the shared server (or the server at `url`, e.g. a private cluster). Fails (never
 * skips) when the server is unreachable.
 */
export async function pgTestDb(label: string, url = TEST_DATABASE_URL): Promise<TestDb> {
  const schema = uniqueName(label);
  const root = createPool({ url, max: 1, applicationName: `${schema}_root` });
  await root.query(`CREATE SCHEMA ${schema}`);
  await endPool(root);
  const pools: pg.Pool[] = [];
  const make = (opts: Partial<PoolOptions> = {}) => {
    const p = createPool({ url, searchPath: schema, applicationName: schema, ...opts });
    pools.push(p);
    return p;
  };
  const admin = make({ applicationName: `${schema}_admin`, max: 2 });
  await migrate(admin);
  return {
    kind: 'postgres',
    url,
    schema,
    pool: make,
    admin,
    async close() {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await Promise.allSettled(pools.map(endPool));
    },
  };
}

/** The embedded PGlite (worker thread + socket) in a temp dir. One session behind it: pools of 1. */
export async function pgliteTestDb(): Promise<TestDb> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tc-pglite-'));
  const emb = await startEmbedded({ dataDir });
  const pools: pg.Pool[] = [];
  const make = (opts: Partial<PoolOptions> = {}) => {
    const p = createPool({ url: emb.url, max: 1, ...opts, searchPath: undefined });
    pools.push(p);
    return p;
  };
  const admin = make();
  await migrate(admin);
  return {
    kind: 'pglite',
    url: emb.url,
    schema: undefined,
    pool: make,
    admin,
    async close() {
      await Promise.allSettled(pools.map(endPool));
      await emb.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The server binaries of whatever PostgreSQL is installed: pg_config's, else the newest Debian one. */
function serverBinDir(): string {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config (client-only install): look where Debian puts the servers
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error('no PostgreSQL server binaries (initdb): install postgresql');
  return join(root, versions[0]!, 'bin');
}

let binDir: string | undefined;
function bin(name: string): string {
  binDir ??= serverBinDir();
  return join(binDir, name);
}

export interface PrivateCluster {
  port: number;
  dir: string;
  /** postgres://postgres@127.0.0.1:PORT/postgres (add ?sslmode=…). */
  url: string;
  /** The server certificate (self-signed: its own root), for verify-ca/verify-full. */
  caFile: string;
  start(): void;
  /** Fast shutdown (-m fast): backends are terminated, as in a restart or failover. */
  stop(): void;
  destroy(): void;
}

/** A throwaway cluster owned by the postgres user (initdb refuses root); with ssl, a self-signed cert. */
export async function startPrivateCluster(opts: { ssl: boolean }): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tc-cluster-'));
  const data = join(dir, 'data');
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, uid, gid);
  const asPg = (args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  asPg([bin('initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const conf = [
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${dir}'`,
    'fsync = off',
    'max_connections = 60',
    'shared_buffers = 16MB',
  ];
  if (opts.ssl) {
    // Debian's snakeoil pair when installed, else a fresh self-signed one (CN is not the host we dial).
    const snake = '/etc/ssl/certs/ssl-cert-snakeoil.pem';
    if (existsSync(snake)) {
      copyFileSync(snake, join(data, 'server.crt'));
      copyFileSync('/etc/ssl/private/ssl-cert-snakeoil.key', join(data, 'server.key'));
    } else {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '2',
          '-subj',
          '/CN=tc-test-server',
          '-keyout',
          join(data, 'server.key'),
          '-out',
          join(data, 'server.crt'),
        ],
        { stdio: 'ignore' },
      );
    }
    copyFileSync(join(data, 'server.crt'), join(dir, 'ca.pem'));
    for (const f of ['server.crt', 'server.key']) {
      chownSync(join(data, f), uid, gid);
      chmodSync(join(data, f), 0o600);
    }
    conf.push('ssl = on', `ssl_cert_file = 'server.crt'`, `ssl_key_file = 'server.key'`);
  }
  writeFileSync(join(data, 'postgresql.auto.conf'), `${conf.join('\n')}\n`);
  chownSync(join(data, 'postgresql.auto.conf'), uid, gid);
  const log = join(dir, 'log');
  const cluster: PrivateCluster = {
    port,
    dir,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    caFile: join(dir, 'ca.pem'),
    start: () => {
      asPg([bin('pg_ctl'), '-D', data, '-l', log, '-w', '-t', '30', 'start']);
    },
    stop: () => {
      asPg([bin('pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
    },
    destroy: () => {
      try {
        asPg([bin('pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  cluster.start();
  return cluster;
}

/** Polls `cond` until true or `timeoutMs` passes (then throws with `what`). No fixed sleeps. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > backstop(timeoutMs)) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
