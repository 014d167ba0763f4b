// The lock manager's hooks, options and counters (lockManager.ts re-exports them).
import type pg from 'pg';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import type { Shard } from './shards.js';

export interface ShardHooks {
  /** The shard is ours now (start its feed if collecting). */
  acquired(shard: Shard): void;
  /** Hand the shard over: stop its feed, write its open candles; the feed's stop time, or null if it was not fed. */
  release(shard: Shard): Promise<unknown>;
  /** The lock session failed: these shards are no longer ours (stop at once; writes are fenced anyway). */
  lost(shards: Shard[]): void;
}

export interface ShardManagerOptions {
  /** A pool of one connection of its own: its one client is checked out and held as the lock session. */
  pool: pg.Pool;
  shards: Shard[];
  /**
   * The layout (layoutOf: schema, SYMBOLS, MAX_SYMBOLS_PER_CONNECTION). Shards are shared only among collectors
   * of one layout; a newer layout's locks fence an older one's writes. Default '' (one layout).
   */
  layout?: string;
  id: string;
  host: string;
  pid: number;
  clock: Clock;
  log: Logger;
  hooks: ShardHooks;
  /** Round interval. Default 1 s. */
  heartbeatMs?: number;
  /** A peer whose heartbeat is older than this is fenced. Default 10 s. */
  leaseMs?: number;
  /** A round slower than this counts as a failure (a black-holed link). Default 3 s. */
  roundTimeoutMs?: number;
}

export interface PeerView {
  id: string;
  host: string;
  pid: number;
  shards: number[];
  heartbeatAgeMs: number;
  self: boolean;
}

export interface ClusterStats {
  id: string;
  /** Shard indexes held now. */
  held: number[];
  shards: number;
  /** Live collectors as of the last round (self included). */
  peers: PeerView[];
  lockPid: number | null;
  acquired: number;
  released: number;
  lost: number;
  fenced: number;
  /** Rounds completed (the watchdog counts them as progress: a standby collector streams nothing). */
  rounds: number;
  lastRoundAt: number | null;
  lastError: string | null;
}
