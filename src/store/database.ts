// Opens the database the configuration names: DATABASE_URL, or the embedded PGlite under DATA_DIR.
// PGlite's directory must have one owner: the process that opened it leaves a lock file with its server's
// URL, so `tick-collector candles` run beside a live collector reads through that server instead of
// opening the same files twice.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rateLimit.js';
import { backoffDelay, RETRY_DELAYS } from '../retry/backoff.js';
import { createPool, describeTarget, endPool, type PoolOptions } from './db/connection.js';
import { type Embedded, startEmbedded } from './db/embedded.js';
import { classifyError, describeError } from './db/errors.js';
import { migrate } from './schema/migrate.js';

export interface Database {
  pool: pg.Pool;
  /** Redacted, for diagnostics. */
  target: string;
  embedded: boolean;
  /** Another small pool (one connection) on the same database, closed with it. */
  extraPool(applicationName: string): pg.Pool;
  /** The options of such a pool for a worker thread to open its own (no logger); null when embedded. */
  extraPoolOptions(applicationName: string): PoolOptions | null;
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
function embeddedOwner(dataDir: string): LockInfo | null {
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
    const url = config.databaseUrl;
    const pool = createPool({ ...poolOpts, url, defaultSslMode: config.pgSslMode, max: config.dbPoolMax });
    const extras: pg.Pool[] = [];
    const { log: _log, ...plain } = poolOpts;
    const extraPoolOptions = (applicationName: string): PoolOptions => ({
      ...plain,
      url,
      defaultSslMode: config.pgSslMode,
      max: 1,
      applicationName,
    });
    return {
      pool,
      target: describeTarget(url, config.pgSslMode),
      embedded: false,
      extraPool(applicationName) {
        const p = createPool({ ...extraPoolOptions(applicationName), log });
        extras.push(p);
        return p;
      },
      extraPoolOptions,
      close: async () => {
        await Promise.allSettled(extras.map(endPool));
        await endPool(pool);
      },
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
      extraPool: () => pool,
      extraPoolOptions: () => null,
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
    extraPool: () => pool,
    extraPoolOptions: () => null,
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

/**
 * Opens and migrates the database, waiting (full-jitter backoff, capped at 30 s) while it is unreachable:
 * a database that is down when we start, or restarting with us, must not crash-loop the process (Railway
 * stops restarting after a few failures). Errors that will not heal by waiting (a bad password, a bug)
 * are thrown. Returns null when `signal` aborts first.
 */
export async function openMigrated(
  config: Config,
  log: Logger,
  clock: Clock,
  signal: AbortSignal,
  random: () => number = Math.random,
): Promise<Database | null> {
  const limited = new RateLimitedLog(log.child({ component: 'store' }), {
    windowMs: 60_000,
    now: () => clock.now(),
  });
  for (let attempt = 0; !signal.aborted; attempt++) {
    let db: Database | undefined;
    try {
      db = await openDatabase(config, log, { exclusive: true });
      const applied = await migrate(db.pool);
      if (applied.length > 0)
        log.info({ component: 'store', applied }, `migrations applied: ${applied.join(', ')}`);
      if (attempt > 0)
        log.info({ component: 'store', attempts: attempt + 1 }, `database reachable: ${db.target}`);
      return db;
    } catch (err) {
      await db?.close().catch(() => undefined);
      if (classifyError(err) !== 'retry') throw err;
      const waitMs = backoffDelay(RETRY_DELAYS['store.open'], attempt, random);
      limited.event(
        'store.unreachable-at-start',
        'warn',
        { err: describeError(err), attempt: attempt + 1 },
        `database not reachable yet (${describeError(err)}); retrying until it is`,
      );
      await clock.sleep(waitMs, signal);
    }
  }
  return null;
}
