// The one way to reach PostgreSQL: a pg.Pool with every timeout set (a black-holed link is found by
// query_timeout / connectionTimeoutMillis in seconds, not by TCP keepalive in ~15 minutes), connections
// recycled below any proxy idle timeout, libpq sslmode semantics, and an 'error' listener everywhere.
import pg from 'pg';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rateLimit.js';
import { describeError } from './errors.js';
import { isPlainRefused, isTlsRefused, planTls, type SslMode } from './sslMode.js';

export interface PoolOptions {
  url: string;
  /** sslmode when the URL has none (PGSSLMODE); libpq's default is prefer. */
  defaultSslMode?: SslMode | null;
  /** sslrootcert when the URL has none (PGSSLROOTCERT). */
  defaultSslRootCert?: string | null;
  /** Shown in pg_stat_activity; tests set their own to find their backends. */
  applicationName?: string;
  max?: number;
  connectTimeoutMs?: number;
  /** Client-side timeout of every query; also bounds COPY through withClient users. */
  queryTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxLifetimeSeconds?: number;
  /** Server-side statement_timeout (ms); 0 or absent = server default. */
  statementTimeoutMs?: number;
  /** Schema for unqualified names (tests give each file its own). */
  searchPath?: string;
  log?: Logger;
}

export const DEFAULT_APPLICATION_NAME = 'tick-collector';

type PoolClientCallback = (
  err: Error | undefined,
  client?: pg.PoolClient,
  done?: (e?: unknown) => void,
) => void;

/**
 * libpq allow/prefer: when the server refuses the first attempt (TLS for prefer, plain for allow), retry
 * with the other setting. pool.query() goes through pool.connect(), so patching connect covers both.
 */
function addTlsFallback(
  pool: pg.Pool,
  fallback: pg.PoolConfig['ssl'],
  refusedBy: (err: unknown) => boolean,
): void {
  const base = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  let next: pg.PoolConfig['ssl'] | undefined = fallback;
  const connect = (cb?: PoolClientCallback): Promise<pg.PoolClient> | undefined => {
    const p = base().catch((err: unknown) => {
      if (next === undefined || !refusedBy(err)) throw err;
      // The server's answer does not change while we run: remember it for the pool's lifetime.
      (pool as unknown as { options: pg.PoolConfig }).options.ssl = next;
      next = undefined;
      return base();
    });
    if (!cb) return p;
    p.then(
      (c) => cb(undefined, c, (e?: unknown) => c.release(e as Error | undefined)),
      (e: Error) => cb(e),
    );
    return undefined;
  };
  (pool as unknown as { connect: typeof connect }).connect = connect;
}

export function createPool(opts: PoolOptions): pg.Pool {
  const plan = planTls(opts);
  const queryTimeout = opts.queryTimeoutMs ?? 15_000;
  const config: pg.PoolConfig = {
    connectionString: plan.url,
    ssl: plan.first,
    application_name: opts.applicationName ?? DEFAULT_APPLICATION_NAME,
    max: opts.max ?? 4,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    maxLifetimeSeconds: opts.maxLifetimeSeconds ?? 300,
    query_timeout: queryTimeout,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
  if (opts.statementTimeoutMs) config.statement_timeout = opts.statementTimeoutMs;
  if (opts.searchPath) config.options = `-c search_path=${quoteIdent(opts.searchPath)}`;
  const refusedBy = plan.mode === 'allow' ? isPlainRefused : isTlsRefused;
  const pool = new pg.Pool(config);
  if (plan.fallback !== undefined) addTlsFallback(pool, plan.fallback, refusedBy);

  // An idle client dying (server restart, proxy reset) is emitted here; with no listener Node would crash.
  const log = opts.log?.child({ component: 'store' });
  const limited = log ? new RateLimitedLog(log) : undefined;
  pool.on('error', (err) => {
    limited?.event(
      'store.idle-client-error',
      'warn',
      { err: describeError(err) },
      'idle database connection failed',
    );
  });
  return pool;
}

/** Ends the pool once (pg-pool throws on a second end()). */
export async function endPool(pool: pg.Pool): Promise<void> {
  if (pool.ended || pool.ending) return;
  await pool.end();
}

/**
 * Runs `fn` on a checked-out client that has its own 'error' listener while out (pg-pool only listens
 * on idle clients), and destroys the client instead of reusing it when anything failed.
 */
export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  const onError = (err: Error) => {
    failure = err;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    client.off('error', onError);
    client.release(failure);
  }
}

/** Redacted target for diagnostics: "postgres://user:***@host:5432/db (sslmode=require)". */
export function describeTarget(url: string, defaultSslMode?: SslMode | null): string {
  try {
    const u = new URL(url);
    const mode = u.searchParams.get('sslmode') ?? defaultSslMode ?? 'prefer';
    const user = u.username ? `${decodeURIComponent(u.username)}${u.password ? ':***' : ''}@` : '';
    const port = u.port || '5432';
    const db = u.pathname.replace(/^\//, '') || decodeURIComponent(u.username) || 'postgres';
    return `${u.protocol}//${user}${u.hostname}:${port}/${db} (sslmode=${mode})`;
  } catch {
    return '(unparseable database URL)';
  }
}

function quoteIdent(s: string): string {
  // search_path in a startup option: a schema name of letters, digits and _ needs no quoting; refuse others.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new Error(`search_path "${s}" must be a plain identifier`);
  return s;
}
