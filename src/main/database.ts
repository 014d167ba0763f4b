// Opens the database the configuration names: DATABASE_URL, or the embedded PGlite under DATA_DIR.
// PGlite's directory must have one owner: the process that opened it leaves a lock file with its server's
// URL, so `tick-collector candles` run beside a live collector reads through that server instead of
// opening the same files twice.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { createPool, describeTarget, endPool } from '../store/connection.js';
import { type Embedded, startEmbedded } from '../store/embedded.js';

export interface Database {
  pool: pg.Pool;
  /** Redacted, for diagnostics. */
  target: string;
  embedded: boolean;
  close(): Promise<void>;
}

interface LockInfo {
  pid: number;
  url: string;
}

function lockPath(dataDir: string): string {
  return join(dataDir, 'pglite.lock');
}

/** The live owner of the embedded database, if another process holds it. */
export function embeddedOwner(dataDir: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(lockPath(dataDir), 'utf8')) as LockInfo;
    if (info.pid === process.pid) return null;
    process.kill(info.pid, 0); // throws when no such process: a stale lock
    return info;
  } catch {
    return null;
  }
}

export function embeddedTarget(dataDir: string): string {
  return `embedded PGlite in ${join(dataDir, 'pglite')} (local mode)`;
}

export async function openDatabase(
  config: Config,
  log: Logger,
  opts: { applicationName?: string; exclusive?: boolean } = {},
): Promise<Database> {
  const poolOpts = {
    log,
    applicationName: opts.applicationName ?? 'tick-collector',
    connectTimeoutMs: config.dbConnectTimeoutMs,
    queryTimeoutMs: config.dbQueryTimeoutMs,
    maxLifetimeSeconds: config.dbMaxLifetimeSeconds,
  };
  if (config.databaseUrl) {
    const pool = createPool({
      ...poolOpts,
      url: config.databaseUrl,
      defaultSslMode: config.pgSslMode,
      max: config.dbPoolMax,
    });
    return {
      pool,
      target: describeTarget(config.databaseUrl, config.pgSslMode),
      embedded: false,
      close: () => endPool(pool),
    };
  }

  const owner = embeddedOwner(config.dataDir);
  if (owner) {
    if (opts.exclusive) {
      throw new Error(
        `another collector (pid ${owner.pid}) is using the embedded database in ${config.dataDir}; stop it or set DATA_DIR`,
      );
    }
    // PGlite behind the socket is one session: one connection at a time.
    const pool = createPool({ ...poolOpts, url: owner.url, max: 1 });
    return {
      pool,
      target: `${embeddedTarget(config.dataDir)}, via pid ${owner.pid}`,
      embedded: true,
      close: () => endPool(pool),
    };
  }

  mkdirSync(config.dataDir, { recursive: true });
  const embedded: Embedded = await startEmbedded({ dataDir: config.dataDir });
  writeFileSync(
    lockPath(config.dataDir),
    JSON.stringify({ pid: process.pid, url: embedded.url } satisfies LockInfo),
  );
  const pool = createPool({ ...poolOpts, url: embedded.url, max: 1 });
  return {
    pool,
    target: embeddedTarget(config.dataDir),
    embedded: true,
    async close() {
      try {
        await endPool(pool);
      } finally {
        await embedded.stop();
        rmSync(lockPath(config.dataDir), { force: true });
      }
    },
  };
}
