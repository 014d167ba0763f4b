// The spool replay loop (SpoolReplay).
// Writes spool files (the overflow of a long outage, or what a previous run could not drain by its stop
// deadline) to the database once it answers and the buffer has room, a file at a time, deleting each file
// only after its rows are settled: a crash mid-replay replays the file again (harmless: candles are upserts)
// instead of losing it. Runs from the sink's start until it stops.
import type pg from 'pg';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../log/logger.js';
import type { RateLimitedLog } from '../../log/rateLimit.js';
import { describeError } from '../db/errors.js';
import type { SinkSettings, SinkStats } from './sinkTypes.js';
import type { Spool, TableName } from './spool.js';

export interface SpoolReplayDeps {
  pool: pg.Pool;
  spool: Spool;
  stats: SinkStats;
  clock: Clock;
  log: Logger;
  limited: RateLimitedLog;
  settings: SinkSettings;
  isStopping: () => boolean;
  /** Settles once the spool files being written are complete. */
  spoolWrites: () => Promise<void>;
  /** Writes rows through the sink's batch writer; true once all are settled, false at the stop deadline. */
  write: (table: TableName, rows: object[]) => Promise<boolean>;
}

export class SpoolReplay {
  /** Settles when the loop has ended (after the sink started stopping). */
  readonly done: Promise<void>;
  private wakeCtl: AbortController | null = null;
  /** stats.spooledRows when the spool was last listed: more since then means new files to replay. */
  private spooledAtList = 0;

  constructor(private readonly d: SpoolReplayDeps) {
    this.done = this.run();
  }

  /** Ends the current wait early (writes recovered, or the sink is stopping). */
  wake(): void {
    this.wakeCtl?.abort();
  }

  private async run(): Promise<void> {
    await Promise.resolve(); // let the sink's constructor finish first
    const { stats, settings: o } = this.d;
    let pendingFiles = true; // a previous run may have left some
    await this.removeStaleTemp();
    while (!this.d.isStopping()) {
      if (pendingFiles && stats.bufferedRows <= o.maxBufferRows / 2) {
        try {
          pendingFiles = await this.replayOnce();
        } catch (err) {
          this.d.limited.event(
            'store.replay',
            'warn',
            { err: describeError(err) },
            'spool replay failed; will retry',
          );
        }
      }
      this.wakeCtl = new AbortController();
      // While files remain and writes succeed, come back as soon as the lanes have had a flush to drain.
      const busy = pendingFiles && stats.connected;
      await this.d.clock.sleep(busy ? o.flushMs : Math.max(1_000, o.flushMs * 4), this.wakeCtl.signal);
      this.wakeCtl = null;
      // Re-armed by rows spooled since the last pass listed the files (replayedRows also counts files from
      // earlier runs, so it cannot be compared with spooledRows).
      if (stats.spooledRows > this.spooledAtList) pendingFiles = true;
    }
  }

  private async removeStaleTemp(): Promise<void> {
    try {
      const n = await this.d.spool.removeStaleTemp();
      if (n > 0) this.d.log.info({ files: n }, 'removed unfinished spool files of an earlier run');
    } catch (err) {
      this.d.log.warn({ err: describeError(err) }, 'could not clean the spool directory');
    }
  }

  /** Replays spool files while there is room; returns true if files remain. */
  private async replayOnce(): Promise<boolean> {
    const { stats, spool, settings: o } = this.d;
    await this.d.spoolWrites();
    const spooledBefore = stats.spooledRows; // every file counted so far is in the listing below
    const files = await spool.list();
    this.spooledAtList = spooledBefore;
    if (files.length === 0) return false;
    if (!stats.connected) await this.d.pool.query('SELECT 1'); // probe: throws while the database is away
    for (const file of files) {
      if (this.d.isStopping() || stats.bufferedRows > o.maxBufferRows / 2) return true;
      const { table, rows } = await spool.read(file);
      this.d.log.info({ table, rows: rows.length, file }, 'replaying spooled rows');
      if (!(await this.d.write(table, rows as object[]))) return true; // stopped: the file stays
      await spool.remove(file);
      stats.replayedRows += rows.length;
    }
    return false;
  }
}
