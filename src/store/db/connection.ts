// The one way to reach PostgreSQL (createPool, withClient, endPool, describeTarget).
// A pg.Pool with every timeout set (a black-holed link is found by query_timeout / connectionTimeoutMillis in
// seconds, not by TCP keepalive in ~15 minutes), connections recycled below any proxy idle timeout, libpq
// sslmode semantics, and an 'error' listener everywhere.
import pg from 'pg';
import { SETTINGS } from '../../config/settings.js';
import type { Logger } from '../../log/logger.js';
import { RateLimitedLog } from '../../log/rateLimit.js';
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
 *
 * Callback form throughout: pg-pool hands a client to a callback synchronously, from inside the parser
 * loop that read ReadyForQuery, so pool.query attaches its 'error' listener at once; a promise would hand
 * it over a microtask later, and a FATAL error in the same TCP read (a backend terminated right after it
 * connected, as pg_terminate_backend does) would be emitted with no listener: an uncaught exception.
 */
function addTlsFallback(
  pool: pg.Pool,
  fallback: pg.PoolConfig['ssl'],
  refusedBy: (err: unknown) => boolean,
): void {
  const base = pool.connect.bind(pool) as (cb: PoolClientCallback) => void;
  const options = (pool as unknown as { options: pg.PoolConfig }).options;
  let next: pg.PoolConfig['ssl'] | undefined = fallback;
  const connectCb = (cb: PoolClientCallback): void => {
    const tried = options.ssl;
    base((err, client, done) => {
      if (err && refusedBy(err)) {
        // Concurrent first connections (the sink's lanes start together) were all refused: the first
        // to fail switched the setting, the others retry with it instead of surfacing the refusal.
        if (options.ssl !== tried) return base(cb);
        if (next !== undefined) {
          // The server's answer does not change while we run: remember it for the pool's lifetime.
          options.ssl = next;
          next = undefined;
          return base(cb);
        }
      }
      cb(err, client, done);
    });
  };
  const connect = (cb?: PoolClientCallback): Promise<pg.PoolClient> | undefined => {
    if (cb) return void connectCb(cb);
    return new Promise((resolve, reject) =>
      connectCb((err, client) => (err || !client ? reject(err) : resolve(client))),
    );
  };
  (pool as unknown as { connect: typeof connect }).connect = connect;
}

export function createPool(opts: PoolOptions): pg.Pool {
  const plan = planTls(opts);
  // Defaults are the settings' own (one place); idle timeout is not a setting.
  const queryTimeout = opts.queryTimeoutMs ?? SETTINGS.dbQueryTimeoutMs.default;
  const config: pg.PoolConfig = {
    connectionString: plan.url,
    ssl: plan.first,
    application_name: opts.applicationName ?? DEFAULT_APPLICATION_NAME,
    max: opts.max ?? SETTINGS.dbPoolMax.default,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? SETTINGS.dbConnectTimeoutMs.default,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    maxLifetimeSeconds: opts.maxLifetimeSeconds ?? SETTINGS.dbMaxLifetimeSeconds.default,
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
  let failure: Error | undefined;
  const onError = (err: Error) => {
    failure = err;
  };
  // Callback form: the listener goes on in the same tick as the checkout (see addTlsFallback).
  const client = await new Promise<pg.PoolClient>((resolve, reject) => {
    pool.connect((err, c) => {
      if (err || !c) return reject(err);
      c.on('error', onError);
      resolve(c);
    });
  });
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
