// What the sink does with rows beyond its buffer bound (docs/ARCHITECTURE.md, "Database and sink").
// The oldest chunk of the longest queue goes to the spool, and counts as spooled only once its file is
// durable.
// When the spool cannot be written (disk full, quota, I/O error) the rows go back to the front of their
// queue and stay in memory, and spooling pauses for a while; past the hard cap the oldest rows are dropped,
// counted in lostRows (/health is degraded from then until a restart).
import type { Clock } from '../../clock.js';
import type { Logger } from '../../log/logger.js';
import type { RateLimitedLog } from '../../log/rateLimit.js';
import { describeError } from '../db/errors.js';
import type { RowQueue } from './rowQueue.js';
import type { SinkStats } from './sinkTypes.js';
import type { Spool, TableName } from './spool.js';

/** After a failed spool write, rows stay in memory this long before the disk is tried again. */
const SPOOL_RETRY_MS = 1_000;

export interface OverflowLane {
  table: TableName;
  queue: RowQueue<object>;
  /** Rows ever taken from the front of the queue (the sink's candlesSettled() counts on it). */
  taken: number;
}

export interface OverflowDeps {
  spool: Spool;
  stats: SinkStats;
  clock: Clock;
  log: Logger;
  limited: RateLimitedLog;
  lanes: () => readonly OverflowLane[];
  hardMaxRows: number;
  chunkRows: number;
  /** Rows lost for good (the backfill records them as gaps). */
  onDropped: (table: TableName, rows: readonly object[]) => void;
}

export class Overflow {
  /** Rows taken from a queue for a spool write not yet settled: out of bufferedRows, still in memory. */
  private spooling = 0;
  private blockedUntil = Number.NEGATIVE_INFINITY;
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly d: OverflowDeps) {}

  /** Settles once the spool writes started so far have settled. */
  settled(): Promise<void> {
    return this.writes;
  }

  /** Called after a push while bufferedRows > maxBufferRows: spools, or holds up to the hard cap. */
  check(): void {
    const { stats } = this.d;
    if (this.d.clock.now() < this.blockedUntil) {
      this.enforceCap();
      return;
    }
    const lane = this.longest();
    const rows = lane.queue.take(this.d.chunkRows);
    lane.taken += rows.length;
    if (rows.length === 0) return;
    stats.bufferedRows -= rows.length;
    this.spooling += rows.length;
    this.writes = this.writes.then(async () => {
      const ok = await this.write(lane.table, rows);
      this.spooling -= rows.length;
      if (ok) return;
      // Not on disk: back to the front of the queue, in memory again; spooling pauses a while.
      lane.queue.unshift(rows);
      lane.taken -= rows.length; // back at the front, in their order: not settled after all
      stats.bufferedRows += rows.length;
      this.blockedUntil = this.d.clock.now() + SPOOL_RETRY_MS;
      this.enforceCap();
    });
  }

  /** At the stop deadline: spools rows for the next start; resolves how many are durably on disk. */
  async spoolAtStop(table: TableName, rows: readonly object[]): Promise<number> {
    let done!: (n: number) => void;
    const result = new Promise<number>((r) => (done = r));
    this.writes = this.writes.then(async () => {
      const ok = await this.write(table, rows);
      if (!ok) {
        this.d.stats.lostRows += rows.length;
        this.d.onDropped(table, rows);
        this.d.log.error({ table, rows: rows.length }, 'could not spool rows at stop: lost');
      }
      done(ok ? rows.length : 0);
    });
    return result;
  }

  private async write(table: TableName, rows: readonly object[]): Promise<boolean> {
    const { stats } = this.d;
    try {
      const file = await this.d.spool.write(table, rows);
      stats.spooledRows += rows.length;
      this.d.limited.event(
        'store.spool',
        'warn',
        { table, rows: rows.length, file },
        'buffer full: rows spooled to disk',
      );
      return true;
    } catch (err) {
      stats.spoolErrors++;
      stats.lastSpoolError = describeError(err);
      this.d.limited.event(
        'store.spool-failed',
        'error',
        { table, rows: rows.length, err: stats.lastSpoolError, bufferedRows: stats.bufferedRows },
        'could not spool rows to disk: kept in memory up to SINK_HARD_MAX_ROWS',
      );
      return false;
    }
  }

  /** Memory at the hard cap while the disk refuses: the oldest queued rows of the longest queues go. */
  private enforceCap(): void {
    const { stats } = this.d;
    let excess = stats.bufferedRows + this.spooling - this.d.hardMaxRows;
    while (excess > 0) {
      const lane = this.longest();
      const rows = lane.queue.take(excess);
      lane.taken += rows.length;
      if (rows.length === 0) break;
      excess -= rows.length;
      stats.bufferedRows -= rows.length;
      stats.lostRows += rows.length;
      this.d.onDropped(lane.table, rows);
      this.d.limited.event(
        `store.lost.${lane.table}`,
        'error',
        { table: lane.table, rows: rows.length, lostRows: stats.lostRows, firstRow: rows[0] },
        'memory at SINK_HARD_MAX_ROWS and the spool cannot be written: oldest rows lost',
      );
    }
  }

  private longest(): OverflowLane {
    return this.d.lanes().reduce((a, b) => (b.queue.length > a.queue.length ? b : a));
  }
}
