// Wires the lock manager for a collector on PostgreSQL (startCluster).
// Its shards (keyed by the schema it writes), a collector id unique per process, and a lock session on a pool
// of its own. The embedded database (local mode) is one collector by construction (one process owns its
// files): it gets no manager.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { Database } from '../store/database.js';
import { type ShardHooks, ShardManager } from './lockManager.js';
import { cutShards, layoutOf } from './shards.js';

export interface ClusterSetup {
  pool: pg.Pool;
  /** A pool of one connection of its own for the lock session. */
  lockPool: pg.Pool;
  symbols: readonly string[];
  maxSymbolsPerConnection: number;
  clock: Clock;
  log: Logger;
  hooks: ShardHooks;
}

export async function createShardManager(c: ClusterSetup): Promise<ShardManager> {
  const r = await c.pool.query<{ schema: string }>('SELECT current_schema() AS schema');
  const schema = r.rows[0]?.schema ?? 'public';
  const shards = cutShards(c.symbols, c.maxSymbolsPerConnection, schema);
  const host = hostname();
  return new ShardManager({
    pool: c.lockPool,
    shards,
    layout: layoutOf(schema, c.symbols, c.maxSymbolsPerConnection),
    id: `${host}:${process.pid}:${randomUUID().slice(0, 8)}`,
    host,
    pid: process.pid,
    clock: c.clock,
    log: c.log,
    hooks: c.hooks,
  });
}

/** The daemon's shard manager, started, on its own lock connection; null on the embedded database. */
export async function startCluster(
  config: Config,
  database: Database,
  d: { clock: Clock; log: Logger; hooks: ShardHooks },
): Promise<ShardManager | null> {
  if (database.embedded) {
    d.log.info({ component: 'cluster' }, 'embedded database: one collector, no shard locks');
    return null;
  }
  const cluster = await createShardManager({
    pool: database.pool,
    lockPool: database.extraPool('tick-collector-locks'),
    symbols: config.symbols,
    maxSymbolsPerConnection: config.maxSymbolsPerConnection,
    clock: d.clock,
    log: d.log,
    hooks: d.hooks,
  });
  cluster.start();
  return cluster;
}
