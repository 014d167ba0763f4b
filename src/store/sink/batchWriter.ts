// Writing one batch until it is settled (BatchWriter).
// Retryable errors keep the whole batch and retry with full-jitter backoff (until the stop deadline); a
// rejected statement is split in halves until the bad rows are alone, and those are set aside as dead
// letters, so one bad row never blocks the rows around it.
import type pg from 'pg';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../log/logger.js';
import type { RateLimitedLog } from '../../log/rateLimit.js';
import { backoffDelay, RETRY_DELAYS } from '../../retry/backoff.js';
import { classifyError, describeError } from '../db/errors.js';
import { writeDeadLetter } from './deadLetters.js';
import type { CommitNotice, SinkSettings, SinkStats } from './sinkTypes.js';
import type { TableName } from './spool.js';

export interface BatchWriterDeps {
  pool: pg.Pool;
  stats: SinkStats;
  clock: Clock;
  log: Logger;
  limited: RateLimitedLog;
  settings: SinkSettings;
  /** Aborted at the stop deadline: backoff sleeps end and writeWithRetry gives up. */
  deadline: AbortSignal;
  /** Called when writes succeed again after a failure (the spool replay may start). */
  onRecovered: () => void;
  /** The commit notice (sinkTypes.ts): what the database holds now, what it refused, what was set aside. */
  notify: (n: CommitNotice) => void;
}

/** A statement's result: rows written, or (candles under the replica fence) also the symbols it refused. */
export type WriteResult = number | { written: number; refused: readonly string[] };

/** Where a batch goes: its table and the statement that writes it. */
export interface BatchTarget<T extends object> {
  table: TableName;
  write: (rows: T[]) => Promise<WriteResult>;
}

const NONE: readonly object[] = [];

export class BatchWriter {
  constructor(private readonly d: BatchWriterDeps) {}

  /** True when the batch is settled (written or dead-lettered); false when the stop deadline came first. */
  async writeWithRetry<T extends object>(lane: BatchTarget<T>, batch: T[]): Promise<boolean> {
    const { stats, settings: o, deadline } = this.d;
    const settled = new WeakSet<T>();
    let pending = batch;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.writeIsolating(lane, pending, settled);
        if (!stats.connected) {
          stats.connected = true;
          if (attempt > 0)
            this.d.log.info({ table: lane.table, retries: attempt }, 'database writes recovered');
          this.d.onRecovered();
        }
        return true;
      } catch (err) {
        const msg = describeError(err);
        stats.retries++;
        stats.connected = false;
        stats.lastError = msg;
        this.d.limited.event(
          'store.retry',
          'warn',
          { table: lane.table, rows: pending.length, err: msg },
          'database write failed; retrying',
        );
        pending = pending.filter((r) => !settled.has(r));
        if (deadline.aborted) return false;
        const policy = { ...RETRY_DELAYS['store.write'], baseMs: o.retryBaseMs, maxMs: o.retryMaxMs };
        await this.d.clock.sleep(backoffDelay(policy, attempt, o.random), deadline);
        if (deadline.aborted) return false;
      }
    }
  }

  /** Writes rows; a rejected statement is split in halves until the bad rows are alone, then dead-lettered. */
  private async writeIsolating<T extends object>(
    lane: BatchTarget<T>,
    rows: T[],
    settled: WeakSet<T>,
  ): Promise<void> {
    if (rows.length === 0) return;
    const { stats } = this.d;
    try {
      const res = await lane.write(rows);
      stats.batches++;
      stats.lastWriteAt = this.d.clock.now();
      for (const r of rows) settled.add(r);
      if (typeof res === 'number' || res.refused.length === 0) {
        stats.rowsWritten[lane.table] += typeof res === 'number' ? res : res.written;
        this.d.notify({ table: lane.table, committed: rows, refused: NONE, dropped: NONE });
        return;
      }
      // The fence kept a peer's symbols out: those rows are not stored, and never reported as written.
      const out = new Set(res.refused);
      const committed: T[] = [];
      const refused: T[] = [];
      for (const r of rows)
        ((out.has((r as { symbol?: string }).symbol ?? '') ? refused : committed) as T[]).push(r);
      stats.rowsWritten[lane.table] += res.written;
      stats.fencedRows += refused.length;
      this.d.limited.event(
        `store.fenced.${lane.table}`,
        'warn',
        { table: lane.table, rows: refused.length, symbols: res.refused.slice(0, 10) },
        'candle rows refused by the write fence (a peer holds their shard): not stored, their time stays uncovered',
      );
      this.d.notify({ table: lane.table, committed, refused, dropped: NONE });
    } catch (err) {
      if (classifyError(err) === 'retry') throw err;
      if (rows.length > 1) {
        const mid = rows.length >> 1;
        await this.writeIsolating(lane, rows.slice(0, mid), settled);
        await this.writeIsolating(lane, rows.slice(mid), settled);
        return;
      }
      await this.deadLetter(lane.table, rows, err);
      for (const r of rows) settled.add(r);
    }
  }

  private async deadLetter(table: TableName, rows: readonly object[], err: unknown): Promise<void> {
    const { stats } = this.d;
    const error = describeError(err);
    this.d.notify({ table, committed: NONE, refused: NONE, dropped: rows });
    stats.lastError = error;
    try {
      const { where } = await writeDeadLetter(this.d.pool, this.d.settings.dataDir, table, error, rows);
      stats.deadLettered += rows.length;
      this.d.limited.event(
        `store.dead-letter.${table}`,
        'error',
        { table, error, firstRow: rows[0], where },
        'rows rejected by the database set aside as dead letters',
      );
    } catch (fileErr) {
      stats.lostRows += rows.length;
      this.d.log.error(
        { table, error, firstRow: rows[0], fileErr: describeError(fileErr) },
        'rejected rows could not be set aside: lost',
      );
    }
  }
}
