// The sink: takes candles, ticks and gaps synchronously (push is O(1) and never blocks the feed), writes
// them in batches — one statement per batch per table, every flushMs or batchRows — and keeps every row
// through database trouble: retryable errors keep the batch and retry with full-jitter backoff while
// running; rejected rows are isolated (bisection) and set aside as dead letters; a full buffer spools its
// oldest rows to disk, replayed once writes succeed. One lane per table, one batch in flight per lane.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type pg from 'pg';
import type { Candle, SecondCandle, TickCandle, Trade } from '../aggregate/types.js';
import { type Clock, systemClock } from '../clock.js';
import { type Logger, nullLogger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rateLimit.js';
import { writeDeadLetter } from './deadLetters.js';
import { classifyError, describeError } from './errors.js';
import { RowQueue } from './rowQueue.js';
import { Spool, type TableName } from './spool.js';
import { upsertSecondCandles, upsertTickCandles } from './writeCandles.js';
import { type FeedGap, upsertGaps } from './writeGaps.js';
import { copyTicks, insertTicks } from './writeTicks.js';

export type { FeedGap } from './writeGaps.js';

export interface SinkOptions {
  pool: pg.Pool;
  /** Spool and dead-letter files go under it. */
  dataDir: string;
  log?: Logger;
  clock?: Clock;
  flushMs?: number;
  batchRows?: number;
  maxBufferRows?: number;
  archiveTicks?: boolean;
  /** How ticks are archived: COPY (real server, ~4x faster) or an INSERT (embedded PGlite: no COPY). */
  ticksVia?: 'copy' | 'insert';
  /** Bounds a COPY (query_timeout does not reach it); use the pool's query timeout. */
  queryTimeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  random?: () => number;
}

export interface SinkStats {
  rowsWritten: Record<TableName, number>;
  batches: number;
  retries: number;
  deadLettered: number;
  /** Rows in memory (queued or in flight). */
  bufferedRows: number;
  /** Rows moved to the spool (counter) and read back from it (counter). */
  spooledRows: number;
  replayedRows: number;
  /** Rows that could be neither written, dead-lettered nor spooled (disk failure), or pushed after stop. */
  lostRows: number;
  lastWriteAt: number | null;
  lastError: string | null;
  connected: boolean;
}

export interface SinkSummary {
  written: Record<TableName, number>;
  deadLettered: number;
  /** Rows left unwritten at the deadline and spooled for the next start. */
  spooledAtStop: number;
  spoolDir: string;
  lostRows: number;
}

interface Lane<T extends object> {
  table: TableName;
  queue: RowQueue<T>;
  /** Batches being written (one per worker). */
  inflight: Set<T[]>;
  write: (rows: T[]) => Promise<number>;
  wake: Set<AbortController>;
  done: Promise<void>;
}

type AnyLane = Lane<SecondCandle> | Lane<TickCandle> | Lane<Trade> | Lane<FeedGap>;

export class Sink {
  readonly stats: SinkStats = {
    rowsWritten: { candles_1s: 0, candles_100t: 0, ticks: 0, feed_gaps: 0 },
    batches: 0,
    retries: 0,
    deadLettered: 0,
    bufferedRows: 0,
    spooledRows: 0,
    replayedRows: 0,
    lostRows: 0,
    lastWriteAt: null,
    lastError: null,
    connected: false,
  };
  private readonly pool: pg.Pool;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly limited: RateLimitedLog;
  private readonly spool: Spool;
  private readonly o: Required<Omit<SinkOptions, 'pool' | 'log' | 'clock'>>;
  private readonly chunkRows: number;
  private readonly lanes: {
    candles_1s: Lane<SecondCandle>;
    candles_100t: Lane<TickCandle>;
    ticks: Lane<Trade>;
    feed_gaps: Lane<FeedGap>;
  };
  private spoolWrites: Promise<void> = Promise.resolve();
  private stopping = false;
  private closed = false;
  private readonly deadline = new AbortController();
  private replayWake: AbortController | null = null;
  private readonly replayDone: Promise<void>;
  private stopPromise: Promise<SinkSummary> | null = null;

  constructor(opts: SinkOptions) {
    this.pool = opts.pool;
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.log ?? nullLogger()).child({ component: 'store' });
    this.limited = new RateLimitedLog(this.log, { now: () => this.clock.now() });
    this.o = {
      dataDir: opts.dataDir,
      flushMs: opts.flushMs ?? 250,
      batchRows: opts.batchRows ?? 500,
      maxBufferRows: opts.maxBufferRows ?? 200_000,
      archiveTicks: opts.archiveTicks ?? false,
      ticksVia: opts.ticksVia ?? 'copy',
      queryTimeoutMs: opts.queryTimeoutMs ?? 15_000,
      retryBaseMs: opts.retryBaseMs ?? 100,
      retryMaxMs: opts.retryMaxMs ?? 5_000,
      random: opts.random ?? Math.random,
    };
    this.chunkRows = Math.max(1, Math.min(10_000, Math.floor(this.o.maxBufferRows / 4)));
    this.spool = new Spool(this.o.dataDir);
    // Two workers on the high-volume tables: the second only helps while a backlog of full batches waits
    // (catch-up after an outage). Two versions of one candle in flight at once are safe: the
    // no-partial-overwrite rule keeps the fuller one whichever commits last.
    const lane = <T extends object>(
      table: TableName,
      write: (rows: T[]) => Promise<number>,
      workers = 1,
    ): Lane<T> => {
      const l: Lane<T> = {
        table,
        queue: new RowQueue<T>(),
        inflight: new Set(),
        write,
        wake: new Set(),
        done: Promise.resolve(),
      };
      l.done = Promise.all(Array.from({ length: workers }, (_, w) => this.runLane(l, w))).then(
        () => undefined,
      );
      return l;
    };
    this.lanes = {
      candles_1s: lane('candles_1s', (rows) => upsertSecondCandles(this.pool, rows), 2),
      candles_100t: lane('candles_100t', (rows) => upsertTickCandles(this.pool, rows)),
      ticks: lane(
        'ticks',
        (rows) =>
          this.o.ticksVia === 'copy'
            ? copyTicks(this.pool, rows, this.o.queryTimeoutMs)
            : insertTicks(this.pool, rows),
        2,
      ),
      feed_gaps: lane('feed_gaps', (rows) => upsertGaps(this.pool, rows)),
    };
    this.replayDone = this.runReplay();
  }

  /** A finished or amended candle. Synchronous, O(1), never throws. */
  push(c: Candle): void {
    if (c.kind === '1s') this.enqueue(this.lanes.candles_1s, c);
    else this.enqueue(this.lanes.candles_100t, c);
  }

  /** A raw trade for the archive; ignored unless archiveTicks. */
  pushTick(t: Trade): void {
    if (this.o.archiveTicks) this.enqueue(this.lanes.ticks, t);
  }

  pushGap(g: FeedGap): void {
    this.enqueue(this.lanes.feed_gaps, g);
  }

  private enqueue<T extends object>(lane: Lane<T>, row: T): void {
    if (this.closed) {
      this.stats.lostRows++;
      this.limited.event(
        'store.push-after-stop',
        'error',
        { table: lane.table },
        'row pushed after the sink stopped',
      );
      return;
    }
    lane.queue.push(row);
    this.stats.bufferedRows++;
    if (lane.queue.length >= this.o.batchRows) for (const w of lane.wake) w.abort();
    if (this.stats.bufferedRows > this.o.maxBufferRows) this.overflow();
  }

  /** Moves the oldest chunk of the longest queue to the spool (async; memory stays bounded). */
  private overflow(): void {
    const all = Object.values(this.lanes) as AnyLane[];
    const lane = all.reduce((a, b) => (b.queue.length > a.queue.length ? b : a));
    const rows = lane.queue.take(this.chunkRows) as object[];
    if (rows.length === 0) return;
    this.stats.bufferedRows -= rows.length;
    this.spoolRows(lane.table, rows);
  }

  private spoolRows(table: TableName, rows: readonly object[]): void {
    this.spoolWrites = this.spoolWrites.then(async () => {
      try {
        const file = await this.spool.write(table, rows);
        this.stats.spooledRows += rows.length;
        this.limited.event(
          'store.spool',
          'warn',
          { table, rows: rows.length, file },
          'buffer full: rows spooled to disk',
        );
      } catch (err) {
        this.stats.lostRows += rows.length;
        this.log.error({ table, rows: rows.length, err: describeError(err) }, 'could not spool rows: lost');
      }
    });
  }

  private async runLane<T extends object>(lane: Lane<T>, worker: number): Promise<void> {
    await Promise.resolve(); // let the constructor finish before the loop touches `this.lanes`
    for (;;) {
      if (this.deadline.signal.aborted) return;
      if (lane.queue.length < this.o.batchRows && !this.stopping) {
        const wake = new AbortController();
        lane.wake.add(wake);
        await this.clock.sleep(this.o.flushMs, wake.signal);
        lane.wake.delete(wake);
      }
      if (this.deadline.signal.aborted) return;
      if (lane.queue.length === 0) {
        if (this.stopping) return;
        continue;
      }
      // Helpers (worker > 0) take only full batches: partial ones are worker 0's, on its timer.
      if (worker > 0 && lane.queue.length < this.o.batchRows && !this.stopping) continue;
      const batch = lane.queue.take(this.o.batchRows);
      lane.inflight.add(batch);
      const ok = await this.writeWithRetry(lane, batch);
      // Abandoned at the deadline: leave the batch in `inflight`, stop() spools it.
      if (this.closed || !ok) return;
      lane.inflight.delete(batch);
      this.stats.bufferedRows -= batch.length;
      await yieldToLoop(); // the feed reads on this thread: never run batches back to back without a turn
    }
  }

  /** True when the batch is settled (written or dead-lettered); false when the stop deadline came first. */
  private async writeWithRetry<T extends object>(lane: Lane<T>, batch: T[]): Promise<boolean> {
    const settled = new WeakSet<T>();
    let pending = batch;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.writeIsolating(lane, pending, settled);
        if (!this.stats.connected) {
          this.stats.connected = true;
          if (attempt > 0)
            this.log.info({ table: lane.table, retries: attempt }, 'database writes recovered');
          this.replayWake?.abort();
        }
        return true;
      } catch (err) {
        const msg = describeError(err);
        this.stats.retries++;
        this.stats.connected = false;
        this.stats.lastError = msg;
        this.limited.event(
          'store.retry',
          'warn',
          { table: lane.table, rows: pending.length, err: msg },
          'database write failed; retrying',
        );
        pending = pending.filter((r) => !settled.has(r));
        if (this.deadline.signal.aborted) return false;
        const cap = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** Math.min(attempt, 20));
        await this.clock.sleep(this.o.random() * cap, this.deadline.signal);
        if (this.deadline.signal.aborted) return false;
      }
    }
  }

  /** Writes rows; a rejected statement is split in halves until the bad rows are alone, then dead-lettered. */
  private async writeIsolating<T extends object>(
    lane: Lane<T>,
    rows: T[],
    settled: WeakSet<T>,
  ): Promise<void> {
    if (rows.length === 0) return;
    try {
      const n = await lane.write(rows);
      this.stats.rowsWritten[lane.table] += n;
      this.stats.batches++;
      this.stats.lastWriteAt = this.clock.now();
      for (const r of rows) settled.add(r);
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
    const error = describeError(err);
    this.stats.lastError = error;
    try {
      const { where } = await writeDeadLetter(this.pool, this.o.dataDir, table, error, rows);
      this.stats.deadLettered += rows.length;
      this.limited.event(
        `store.dead-letter.${table}`,
        'error',
        { table, error, firstRow: rows[0], where },
        'rows rejected by the database set aside as dead letters',
      );
    } catch (fileErr) {
      this.stats.lostRows += rows.length;
      this.log.error(
        { table, error, firstRow: rows[0], fileErr: describeError(fileErr) },
        'rejected rows could not be set aside: lost',
      );
    }
  }

  /** Reads spool files back into the queues once the database answers and the buffer has room. */
  private async runReplay(): Promise<void> {
    await Promise.resolve();
    let pendingFiles = true; // a previous run may have left some
    while (!this.stopping) {
      if (pendingFiles && this.stats.bufferedRows <= this.o.maxBufferRows / 2) {
        try {
          pendingFiles = await this.replayOnce();
        } catch (err) {
          this.limited.event(
            'store.replay',
            'warn',
            { err: describeError(err) },
            'spool replay failed; will retry',
          );
        }
      }
      this.replayWake = new AbortController();
      // While files remain and writes succeed, come back as soon as the lanes have had a flush to drain.
      const busy = pendingFiles && this.stats.connected;
      await this.clock.sleep(
        busy ? this.o.flushMs : Math.max(1_000, this.o.flushMs * 4),
        this.replayWake.signal,
      );
      this.replayWake = null;
      if (this.stats.spooledRows > this.stats.replayedRows) pendingFiles = true;
    }
  }

  /** Replays spool files while there is room; returns true if files remain. */
  private async replayOnce(): Promise<boolean> {
    await this.spoolWrites;
    const files = await this.spool.list();
    if (files.length === 0) return false;
    if (!this.stats.connected) await this.pool.query('SELECT 1'); // probe: throws while the database is away
    for (const file of files) {
      if (this.stopping || this.stats.bufferedRows > this.o.maxBufferRows / 2) return true;
      const { table, rows } = await this.spool.read(file);
      await this.spool.remove(file);
      const lane = this.lanes[table] as Lane<object>;
      for (const r of rows) {
        lane.queue.push(r as object);
        this.stats.bufferedRows++;
      }
      this.stats.replayedRows += rows.length;
      for (const w of lane.wake) w.abort();
      this.log.info({ table, rows: rows.length, file }, 'replaying spooled rows');
    }
    return false;
  }

  /**
   * Drains everything within `deadlineMs`; rows still unwritten at the deadline are spooled to disk for
   * the next start. Idempotent: later calls return the same summary.
   */
  stop(deadlineMs = 5_000): Promise<SinkSummary> {
    this.stopPromise ??= this.drain(deadlineMs);
    return this.stopPromise;
  }

  private async drain(deadlineMs: number): Promise<SinkSummary> {
    this.stopping = true;
    this.replayWake?.abort();
    const lanes = Object.values(this.lanes) as AnyLane[];
    for (const l of lanes) for (const w of l.wake) w.abort();
    const timer = new AbortController();
    const drained = Promise.all(lanes.map((l) => l.done)).then(() => true);
    const expired = this.clock.sleep(deadlineMs, timer.signal).then(() => false);
    const inTime = await Promise.race([drained, expired]);
    timer.abort();
    this.closed = true;
    this.deadline.abort(); // lanes in a backoff sleep return now; one awaiting a query is abandoned
    await this.replayDone;
    let spooledAtStop = 0;
    if (!inTime) {
      for (const l of lanes) {
        const rows = [...[...l.inflight].flat(), ...l.queue.take(l.queue.length)] as object[];
        if (rows.length === 0) continue;
        spooledAtStop += rows.length;
        this.spoolRows(l.table, rows);
      }
      this.stats.bufferedRows = 0;
    }
    await this.spoolWrites;
    this.limited.stop();
    const summary: SinkSummary = {
      written: { ...this.stats.rowsWritten },
      deadLettered: this.stats.deadLettered,
      spooledAtStop,
      spoolDir: this.spool.dir,
      lostRows: this.stats.lostRows,
    };
    if (spooledAtStop > 0)
      this.log.warn(summary, 'sink stopped at its deadline: unwritten rows spooled for the next start');
    else this.log.info(summary, 'sink drained');
    return summary;
  }
}
