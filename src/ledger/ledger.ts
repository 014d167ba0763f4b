// The running collector's ledger (startLedger): epochs, coverage checkpoints, runs and derived gaps.
// Tags every candle row with its epoch, checkpoints coverage at each flush tick, listens to the sink's commit
// notice, and writes what is confirmed (coverage rows, this run's row in collector_runs, the notes that label
// holes) about once a second on its own statements; every few seconds it derives the gaps of the current day
// into feed_gaps (derive.ts, gapStore.ts). Nothing else writes gaps.
import type pg from 'pg';
import type { Candle } from '../aggregate/types.js';
import type { Clock } from '../clock.js';
import type { ConnectionStats } from '../feed/stats.js';
import type { Logger } from '../log/logger.js';
import type { Sink } from '../store/sink/sink.js';
import { type CoverageMode, extendCoverage, insertCoverage } from './coverageStore.js';
import { DERIVE_LOOKBACK_DAYS, deriveAndStore } from './gapStore.js';
import { type ConnView, CoverageTracker, type Segment } from './tracker.js';

export interface LedgerDeps {
  pool: pg.Pool;
  clock: Clock;
  log: Logger;
  sink: Pick<Sink, 'onCommit'>;
  /** The feed's connections (one per chunk of symbols, replaced when a shard's feed restarts). */
  connections: () => readonly ConnectionStats[];
  /** The oldest trade held in memory in no pushed candle (exchange ts; +Infinity: none). */
  heldFrom: () => number;
  mode: CoverageMode;
  symbols: readonly string[];
  intervalMs: number;
  /** SESSION_TAIL_MS: a calendar session's gaps run to the close plus the tail. */
  tailMs: number;
  runId: string;
  /** How often coverage is written (ms). */
  writeEveryMs?: number;
  /** How often the current day's gaps are derived (ms; 0: never, e.g. in tests that derive themselves). */
  deriveEveryMs?: number;
}

export interface LedgerStats {
  /** The least advanced open segment's confirmed end (exchange ms), null before the first. */
  confirmedTo: number | null;
  /** Coverage rows written, write transactions and their failures. */
  segments: number;
  writes: number;
  writeErrors: number;
  holes: number;
  unsettledEpochs: number;
  derivations: number;
  lastError: string | null;
}

export interface Ledger {
  readonly stats: LedgerStats;
  /** A candle row about to be pushed to the sink. O(1). */
  tag(c: Candle): void;
  /** The end of an epoch (call after each aggregator flush). */
  checkpoint(): void;
  hole(symbols: readonly string[], from: number, to: number, reason: string): void;
  stopSymbols(symbols: readonly string[]): void;
  /** A label for an uncovered stretch (the feed down, …): the interval itself comes from coverage. */
  note(symbols: readonly string[], from: number, to: number, reason: string): void;
  /** Writes what is confirmed now (bounded by the caller at shutdown). */
  flush(): Promise<void>;
  /** Stops the timers; `clean` marks this run stopped. */
  stop(clean: boolean): Promise<void>;
}

export async function startLedger(d: LedgerDeps): Promise<Ledger> {
  const log = d.log.child({ component: 'ledger' });
  const startedAt = d.clock.now();
  // Epochs of this run are above any earlier run's (its rows may come back from the spool): µs at start.
  const tracker = new CoverageTracker({ firstEpoch: startedAt * 1000, intervalMs: d.intervalMs });
  const stats: LedgerStats = {
    confirmedTo: null,
    segments: 0,
    writes: 0,
    writeErrors: 0,
    holes: 0,
    unsettledEpochs: 0,
    derivations: 0,
    lastError: null,
  };
  await d.pool.query(
    `INSERT INTO collector_runs (id, started_at, seen_at, mode, symbols)
     VALUES ($1, to_timestamp($2 / 1000.0), to_timestamp($2 / 1000.0), $3, $4)
     ON CONFLICT (id) DO UPDATE SET seen_at = EXCLUDED.seen_at`,
    [d.runId, startedAt, d.mode, d.symbols],
  );
  const unsubscribe = d.sink.onCommit((n) => tracker.onNotice(n));
  const views = new Map<object, ConnView>();
  let writing: Promise<void> | null = null;
  const inserting: Segment[] = [];

  const write = async (): Promise<void> => {
    const now = d.clock.now();
    let client: pg.PoolClient | null = null;
    try {
      client = await d.pool.connect();
      await client.query('BEGIN');
      const ends: { id: number; endedAt: number }[] = [];
      // Applied to the segments only once the transaction commits (ids from a rolled-back one do not exist).
      const done: Array<() => void> = [];
      inserting.length = 0;
      for (const s of tracker.segments) {
        const end = s.end;
        if (s.id === null) {
          if (!(end > s.start)) continue;
          s.inserting = true;
          inserting.push(s);
          const id = await insertCoverage(client, {
            symbols: s.symbolList as string[],
            startedAt: s.start,
            endedAt: end,
            source: 'live',
            mode: d.mode,
            runId: d.runId,
          });
          done.push(() => {
            s.id = id;
            s.persistedEnd = end;
            stats.segments++;
          });
        } else if (end > s.persistedEnd!) {
          ends.push({ id: s.id, endedAt: end });
          done.push(() => {
            s.persistedEnd = end;
          });
        } else if (end < s.persistedEnd!) {
          // A hole cut into what was confirmed (a late row refused): the claim shrinks.
          await client.query('UPDATE coverage SET ended_at = to_timestamp($2 / 1000.0) WHERE id = $1', [
            s.id,
            end,
          ]);
          done.push(() => {
            s.persistedEnd = end;
          });
        }
      }
      await extendCoverage(client, ends);
      const notes = tracker.notes.slice(0);
      if (notes.length > 0) {
        await client.query(
          `INSERT INTO coverage_notes (symbols, started_at, ended_at, reason, run_id)
           SELECT string_to_array(s, ','), to_timestamp(f / 1000.0), to_timestamp(t / 1000.0), r, $5
           FROM unnest($1::text[], $2::float8[], $3::float8[], $4::text[]) AS u(s, f, t, r)`,
          [
            notes.map((n) => n.symbols.join(',')),
            notes.map((n) => n.from),
            notes.map((n) => n.to),
            notes.map((n) => n.reason),
            d.runId,
          ],
        );
      }
      await client.query('UPDATE collector_runs SET seen_at = to_timestamp($2 / 1000.0) WHERE id = $1', [
        d.runId,
        now,
      ]);
      await client.query('COMMIT');
      for (const f of done) f();
      tracker.notes.splice(0, notes.length);
      // Segments that can no longer change leave memory once written.
      tracker.prune((x) => x.id !== null && x.persistedEnd === x.end);
      stats.writes++;
    } catch (err) {
      await client?.query('ROLLBACK').catch(() => undefined);
      stats.writeErrors++;
      stats.lastError = String(err);
      if (stats.writeErrors === 1 || stats.writeErrors % 60 === 0)
        log.warn({ err: String(err), failures: stats.writeErrors }, 'coverage not written yet: retrying');
    } finally {
      for (const s of inserting) s.inserting = false;
      client?.release();
    }
  };

  /** Writes what is confirmed now: after a write already under way (which may predate the caller's state). */
  const flush = async (): Promise<void> => {
    while (writing) await writing;
    writing = write().finally(() => {
      writing = null;
    });
    return writing;
  };

  let stopping: Promise<void> | null = null;
  let lastDerive = 0;
  const timer = setInterval(() => {
    if (writing) return; // a slow database: the next tick writes the newer state
    void flush().then(async () => {
      const every = d.deriveEveryMs ?? 5_000;
      const now = d.clock.now();
      if (every <= 0 || now - lastDerive < every) return;
      // The first derivation looks back (days no collector ran are gaps too); then today and yesterday.
      const days = lastDerive === 0 ? DERIVE_LOOKBACK_DAYS : 2;
      lastDerive = now;
      try {
        await deriveAndStore(d.pool, { now, tailMs: d.tailMs, days });
        stats.derivations++;
      } catch (err) {
        stats.lastError = String(err);
      }
    });
  }, d.writeEveryMs ?? 1_000);
  timer.unref?.();

  return {
    stats,
    tag: (c) => tracker.tag(c),
    checkpoint() {
      const conns = d.connections();
      const live = new Set<object>();
      for (const c of conns) {
        live.add(c);
        views.set(c, c);
      }
      for (const k of views.keys()) if (!live.has(k)) views.delete(k);
      tracker.checkpoint(views, d.heldFrom());
      stats.unsettledEpochs = tracker.unsettledEpochs;
      stats.holes = tracker.holes;
      // The least advanced connection's confirmed end; none while one has confirmed nothing yet.
      let min = Number.POSITIVE_INFINITY;
      for (const s of tracker.segments) if (s.open) min = Math.min(min, s.end > s.start ? s.end : Number.NaN);
      stats.confirmedTo = Number.isFinite(min) ? min : null;
    },
    hole(symbols, from, to, reason) {
      tracker.hole(symbols, from - tracker.slackMs, to + tracker.slackMs, reason);
    },
    stopSymbols: (symbols) => tracker.stopSymbols(symbols),
    note: (symbols, from, to, reason) => tracker.note(symbols, from, to, reason),
    flush,
    stop(clean) {
      stopping ??= (async () => {
        clearInterval(timer);
        unsubscribe();
        await flush();
        if (clean) {
          await d.pool
            .query('UPDATE collector_runs SET stopped_at = to_timestamp($2 / 1000.0) WHERE id = $1', [
              d.runId,
              d.clock.now(),
            ])
            .catch(() => undefined);
        }
        log.info(
          {
            unsettledEpochs: tracker.unsettledEpochs,
            confirmedTo: stats.confirmedTo === null ? null : new Date(stats.confirmedTo).toISOString(),
            writes: stats.writes,
            writeErrors: stats.writeErrors,
          },
          'ledger stopped',
        );
        // The gaps as this run leaves them (a later `gaps` or `backfill` derives again anyway).
        await deriveAndStore(d.pool, { now: d.clock.now(), tailMs: d.tailMs, days: 2 }).catch(
          () => undefined,
        );
      })();
      return stopping;
    },
  };
}
