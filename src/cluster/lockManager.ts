// The shard lock manager (ShardManager): which collector writes which shard, with leases and fencing.
// One dedicated database session per collector holds a session-level advisory lock per shard it writes, and
// refreshes its `collectors` row every heartbeat (~1 s). Each round it counts the live collectors (a fresh
// heartbeat and a lock backend that still exists), releases its surplus over ceil(shards / live) (the session
// drains the shard first) and tries to lock free shards up to that share.
// Fencing: a peer whose heartbeat is older than the lease has its lock backend terminated (its locks go with
// it). A failed or timed-out round, or the session ending, makes every shard held *suspect*: its feed goes on
// (a database outage must not stop collecting: the sink buffers and spools), the session reconnects with
// backoff and locks them again; a shard a peer took meanwhile is lost then (its feed stops). The write fence
// keeps a suspect shard's rows out while a peer holds it. See docs/ARCHITECTURE.md, "Two collectors at once,
// replicas".
import type pg from 'pg';
import type { Logger } from '../log/logger.js';
import { Backoff, RETRY_DELAYS } from '../retry/backoff.js';
import { describeError } from '../store/db/errors.js';
import { fairShare, SHARD_LOCK_CLASS, type Shard } from './shards.js';
import type { ClusterStats, ShardManagerOptions } from './types.js';

export type { ClusterStats, PeerView, ShardHooks, ShardManagerOptions } from './types.js';

interface PeerRow {
  id: string;
  host: string;
  pid: number;
  lock_pid: number;
  shards: number[];
  layout: string;
  age_ms: number;
  alive: boolean;
}

export class ShardManager {
  readonly stats: ClusterStats;
  private readonly o: Required<ShardManagerOptions>;
  private readonly log: Logger;
  private client: pg.PoolClient | null = null;
  private readonly held = new Map<number, Shard>();
  /** Shards held when the lock session failed: still fed, to be locked again (or lost to a peer). */
  private readonly suspect = new Map<number, Shard>();
  /** Shards whose feed is running (their marks are kept fresh). */
  private readonly backoff = new Backoff(RETRY_DELAYS['cluster.reconnect']);
  private readonly stopLoop = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private stopped = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(opts: ShardManagerOptions) {
    this.o = { heartbeatMs: 1_000, leaseMs: 10_000, roundTimeoutMs: 3_000, layout: '', ...opts };
    this.log = opts.log.child({ component: 'cluster' });
    this.stats = {
      id: opts.id,
      held: [],
      shards: opts.shards.length,
      peers: [],
      lockPid: null,
      acquired: 0,
      released: 0,
      lost: 0,
      fenced: 0,
      rounds: 0,
      lastRoundAt: null,
      lastError: null,
    };
  }

  /** The fence for candle writes: our lock backend pid, -1 without a lock session. */
  fencePid(): number {
    return this.stats.lockPid ?? -1;
  }

  /** Shards this collector feeds: locked, or suspect (its lock session failed; locked again next round). */
  heldShards(): Shard[] {
    return [...this.held.values(), ...this.suspect.values()].sort((a, b) => a.index - b.index);
  }

  /** Rounds every heartbeatMs until stop(). */
  start(): void {
    this.loop = (async () => {
      while (!this.stopLoop.signal.aborted) {
        const ok = await this.round();
        if (ok) this.backoff.reset();
        await this.o.clock.sleep(ok ? this.o.heartbeatMs : this.backoff.next(), this.stopLoop.signal);
      }
    })();
  }

  /** One round: connect if needed, heartbeat, fence stale peers, release surplus, acquire up to the share. */
  async round(): Promise<boolean> {
    if (this.stopped) return false;
    try {
      if (!this.client) await this.connect();
      await this.relock();
      const peers = await this.heartbeat();
      const live = peers.filter((p) => p.alive && p.age_ms <= this.o.leaseMs);
      await this.fence(peers);
      // Shared only among collectors cutting the same shards: during a deploy that changes the layout the new
      // collector takes all of its shards at once (its fence then keeps the old one's rows out).
      const target = fairShare(this.o.shards.length, live.filter((p) => p.layout === this.o.layout).length);
      // Surplus: hand over the highest shards first (the newcomer takes the free ones in index order).
      for (const s of this.heldShards().reverse()) {
        if (this.held.size <= target || this.stopped) break;
        await this.releaseOne(s);
      }
      for (const s of this.o.shards) {
        if (this.held.size >= target || this.stopped) break;
        if (this.held.has(s.index)) continue;
        const r = await this.q<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
          SHARD_LOCK_CLASS,
          s.key,
        ]);
        if (!r[0]?.ok) continue;
        this.held.set(s.index, s);
        this.stats.acquired++;
        this.stats.held = this.heldShards().map((h) => h.index);
        this.log.info({ shard: s.index, symbols: s.symbols.length }, `shard ${s.index} acquired`);
        this.o.hooks.acquired(s);
      }
      this.stats.held = this.heldShards().map((h) => h.index);
      this.stats.peers = live.map((p) => ({
        id: p.id,
        host: p.host,
        pid: p.pid,
        shards: p.id === this.o.id ? this.stats.held : p.shards,
        heartbeatAgeMs: p.id === this.o.id ? 0 : Math.round(p.age_ms),
        self: p.id === this.o.id,
      }));
      this.stats.lastRoundAt = this.o.clock.now();
      this.stats.rounds++;
      return true;
    } catch (err) {
      this.lose(err);
      return false;
    }
  }

  /**
   * Shutdown, after the sink drained and the ledger wrote its coverage: removes our row and ends the lock
   * session (every lock goes with it).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopLoop.abort();
    await this.loop;
    if (this.client) {
      try {
        await this.q('DELETE FROM collectors WHERE id = $1', [this.o.id]);
      } catch (err) {
        this.log.warn(
          { err: describeError(err) },
          'could not remove our collectors row: peers see it age out',
        );
      }
      this.drop();
    }
    this.held.clear();
    this.suspect.clear();
    this.stats.held = [];
  }

  private async connect(): Promise<void> {
    const client = await this.o.pool.connect();
    client.on('error', (err) => this.lose(err));
    this.client = client;
    const r = await this.q<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    this.stats.lockPid = r[0]!.pid;
    // The symbols each shard lock covers, for the write fence (same SYMBOLS everywhere: same rows).
    await this.q(
      `INSERT INTO shard_symbols (shard_key, symbol, layout)
       SELECT k, s, $3 FROM unnest($1::int4[], $2::text[]) AS u(k, s) ON CONFLICT DO NOTHING`,
      [
        this.o.shards.flatMap((s) => s.symbols.map(() => s.key)),
        this.o.shards.flatMap((s) => s.symbols),
        this.o.layout,
      ],
    );
    await this.q('INSERT INTO layouts (layout) VALUES ($1) ON CONFLICT DO NOTHING', [this.o.layout]);
    this.log.info({ lockPid: this.stats.lockPid, shards: this.o.shards.length }, 'lock session open');
  }

  private async heartbeat(): Promise<PeerRow[]> {
    await this.q(
      `INSERT INTO collectors (id, host, pid, lock_pid, shards, layout) VALUES ($1, $2, $3, pg_backend_pid(), $4, $5)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), shards = EXCLUDED.shards, lock_pid = EXCLUDED.lock_pid`,
      [this.o.id, this.o.host, this.o.pid, this.heldShards().map((s) => s.index), this.o.layout],
    );
    return this.q<PeerRow>(
      `SELECT id, host, pid, lock_pid, shards, layout,
         (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS age_ms,
         EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = c.lock_pid) AS alive
       FROM collectors c`,
    );
  }

  /** Peers whose session ended leave their row; stale ones (black-holed) have their lock backend terminated. */
  private async fence(peers: PeerRow[]): Promise<void> {
    for (const p of peers) {
      if (p.id === this.o.id) continue;
      if (p.alive && p.age_ms <= this.o.leaseMs) continue;
      if (p.alive) {
        await this.q('SELECT pg_terminate_backend($1)', [p.lock_pid]);
        this.stats.fenced++;
        this.log.warn(
          { peer: p.id, host: p.host, heartbeatAgeMs: Math.round(p.age_ms), lockPid: p.lock_pid },
          'peer heartbeat older than the lease: its lock session terminated, its shards are free',
        );
      } else this.log.info({ peer: p.id, host: p.host }, 'peer gone (its lock session ended)');
      await this.q('DELETE FROM collectors WHERE id = $1 AND lock_pid = $2', [p.id, p.lock_pid]);
    }
  }

  private async releaseOne(s: Shard): Promise<void> {
    // A hand-over waits for the shard's candles to commit (seconds, under load): the heartbeat goes on
    // meanwhile, so peers never take us for dead (and fence us) in the middle of our own hand-over.
    await this.beating(this.o.hooks.release(s));
    await this.q('SELECT pg_advisory_unlock($1, $2)', [SHARD_LOCK_CLASS, s.key]);
    this.held.delete(s.index);
    this.stats.released++;
    this.stats.held = this.heldShards().map((h) => h.index);
    this.log.info({ shard: s.index }, `shard ${s.index} handed over`);
  }

  /** Keeps our heartbeat fresh on the lock session while `work` runs. */
  private async beating<T>(work: Promise<T>): Promise<T> {
    const stop = new AbortController();
    const beat = (async () => {
      for (;;) {
        await this.o.clock.sleep(this.o.heartbeatMs, stop.signal);
        if (stop.signal.aborted) return;
        await this.q('UPDATE collectors SET heartbeat_at = now() WHERE id = $1', [this.o.id]).catch(
          () => undefined,
        );
      }
    })();
    try {
      return await work;
    } finally {
      stop.abort();
      await beat;
    }
  }

  /**
   * The lock session is gone or unusable: its locks went with it. The shards stay fed (suspect) until the next
   * session locks them again, or finds a peer holding them.
   */
  private lose(err: unknown): void {
    this.stats.lastError = describeError(err);
    const held = this.heldShards();
    if (this.client || held.length > 0)
      this.log.error(
        { err: this.stats.lastError, shards: held.map((s) => s.index) },
        'lock session failed: collecting on, reconnecting to lock the shards again',
      );
    this.drop();
    for (const s of held) this.suspect.set(s.index, s);
    this.held.clear();
    this.stats.lockPid = null;
  }

  /** A new session: lock the suspect shards again; those a peer took meanwhile are lost (their feeds stop). */
  private async relock(): Promise<void> {
    if (this.suspect.size === 0) return;
    const lost: Shard[] = [];
    for (const s of [...this.suspect.values()]) {
      const r = await this.q<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
        SHARD_LOCK_CLASS,
        s.key,
      ]);
      this.suspect.delete(s.index);
      if (r[0]?.ok) this.held.set(s.index, s);
      else lost.push(s);
    }
    this.stats.held = this.heldShards().map((h) => h.index);
    if (lost.length > 0) {
      this.stats.lost += lost.length;
      this.log.warn(
        { shards: lost.map((s) => s.index) },
        'shards taken by a peer while the lock session was down',
      );
      this.o.hooks.lost(lost);
    }
  }

  private drop(): void {
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      c.release(true);
    }
  }

  /** One query at a time on the lock session (the round and the session's mark claims share it). */
  private q<R>(text: string, values?: unknown[]): Promise<R[]> {
    const run = this.queue.then(() => this.query<R>(text, values));
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** A query on the lock session, bounded by roundTimeoutMs (a black-holed link never answers). */
  private async query<R>(text: string, values?: unknown[]): Promise<R[]> {
    const c = this.client;
    if (!c) throw new Error('no lock session');
    const timer = new AbortController();
    let timedOut = false;
    const timeout = this.o.clock.sleep(this.o.roundTimeoutMs, timer.signal).then(() => {
      timedOut = !timer.signal.aborted;
    });
    try {
      const r = await Promise.race([c.query(text, values), timeout]);
      if (timedOut || r === undefined)
        throw new Error(`lock session query timed out after ${this.o.roundTimeoutMs} ms`);
      return (r as pg.QueryResult).rows as R[];
    } finally {
      timer.abort();
    }
  }
}
