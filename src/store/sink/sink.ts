// The sink (Sink): every row the collector stores goes through it.
// The sink: takes candles, ticks and gaps synchronously (push is O(1) and never blocks the feed), writes
// them in batches — one statement per batch per table, every flushMs or batchRows (up to 4× batchRows per
// statement while a backlog waits) — and keeps every row through database trouble: retryable errors keep
// the batch and retry with full-jitter backoff while running; rejected rows are isolated (bisection) and
// set aside as dead letters (both in batchWriter.ts); a full buffer spools its oldest rows to disk
// (overflow.ts: in memory up to a hard cap while the disk refuses), replayed once writes succeed
// (spoolReplay.ts). One lane per table, one batch in flight per worker.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type pg from 'pg';
import type { Candle, SecondCandle, TickCandle, Trade } from '../../aggregate/types.js';
import { type Clock, systemClock } from '../../clock.js';
import { SETTINGS } from '../../config/settings.js';
import { type Logger, nullLogger } from '../../log/logger.js';
import { RateLimitedLog } from '../../log/rateLimit.js';
import { RETRY_DELAYS } from '../../retry/backoff.js';
import { upsertSecondCandles, upsertTickCandles } from '../write/writeCandles.js';
import { type FeedGap, upsertGaps } from '../write/writeGaps.js';
import { copyTicks, insertTicks } from '../write/writeTicks.js';
import { BatchWriter, type WriteResult } from './batchWriter.js';
import { Overflow, type OverflowLane } from './overflow.js';
import { RowQueue } from './rowQueue.js';
import type {
  CommitListener,
  CommitNotice,
  SinkOptions,
  SinkSettings,
  SinkStats,
  SinkSummary,
} from './sinkTypes.js';
import { Spool, type TableName } from './spool.js';
import { SpoolReplay } from './spoolReplay.js';

export type { FeedGap } from '../write/writeGaps.js';
export type { CommitListener, CommitNotice, SinkOptions, SinkStats, SinkSummary } from './sinkTypes.js';

const NONE: readonly object[] = [];

/** With a backlog, one statement takes up to this many times batchRows (see SinkOptions.batchRows). */
const BACKLOG_BATCH_FACTOR = 4;
/**
 * A lane is behind (larger statements) past this share of maxBufferRows queued: 10,000 rows by default,
 * more than one second's burst of candles at 5,000 symbols, which goes in batchRows statements instead.
 */
const BACKLOG_BUFFER_SHARE = 1 / 20;

interface Lane<T extends object> {
  table: TableName;
  queue: RowQueue<T>;
  /** Batches being written (one per worker). */
  inflight: Set<T[]>;
  write: (rows: T[]) => Promise<WriteResult>;
  wake: Set<AbortController>;
  done: Promise<void>;
  /** Rows ever pushed / ever taken from the queue (FIFO), and where each batch in flight starts: settledUpTo(). */
  pushed: number;
  taken: number;
  batchFrom: Map<T[], number>;
}

type AnyLane = Lane<SecondCandle> | Lane<TickCandle> | Lane<Trade> | Lane<FeedGap>;

export class Sink {
  readonly stats: SinkStats = {
    rowsPushed: 0,
    rowsWritten: { candles_1s: 0, candles_100t: 0, ticks: 0, feed_gaps: 0 },
    batches: 0,
    retries: 0,
    deadLettered: 0,
    bufferedRows: 0,
    spooledRows: 0,
    replayedRows: 0,
    lostRows: 0,
    fencedRows: 0,
    spoolErrors: 0,
    lastSpoolError: null,
    lastWriteAt: null,
    lastError: null,
    connected: false,
  };
  private readonly pool: pg.Pool;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly limited: RateLimitedLog;
  private readonly spool: Spool;
  private readonly o: SinkSettings;
  private readonly chunkRows: number;
  private readonly backlogRows: number;
  private readonly backlogFrom: number;
  private readonly writer: BatchWriter;
  private readonly lanes: {
    candles_1s: Lane<SecondCandle>;
    candles_100t: Lane<TickCandle>;
    ticks: Lane<Trade>;
    feed_gaps: Lane<FeedGap>;
  };
  private readonly overflow: Overflow;
  private stopping = false;
  private closed = false;
  private readonly deadline = new AbortController();
  private readonly replay: SpoolReplay;
  private readonly listeners: CommitListener[] = [];
  private stopPromise: Promise<SinkSummary> | null = null;

  constructor(opts: SinkOptions) {
    this.pool = opts.pool;
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.log ?? nullLogger()).child({ component: 'store' });
    this.limited = new RateLimitedLog(this.log, { now: () => this.clock.now() });
    this.o = {
      dataDir: opts.dataDir,
      flushMs: opts.flushMs ?? SETTINGS.sinkFlushMs.default,
      batchRows: opts.batchRows ?? SETTINGS.sinkBatchRows.default,
      maxBufferRows: opts.maxBufferRows ?? SETTINGS.sinkMaxBufferRows.default,
      hardMaxRows: Math.max(
        opts.hardMaxRows ?? SETTINGS.sinkHardMaxRows.default,
        opts.maxBufferRows ?? SETTINGS.sinkMaxBufferRows.default,
      ),
      archiveTicks: opts.archiveTicks ?? false,
      ticksVia: opts.ticksVia ?? 'copy',
      queryTimeoutMs: opts.queryTimeoutMs ?? 15_000,
      retryBaseMs: opts.retryBaseMs ?? RETRY_DELAYS['store.write'].baseMs,
      retryMaxMs: opts.retryMaxMs ?? RETRY_DELAYS['store.write'].maxMs,
      random: opts.random ?? Math.random,
    };
    this.chunkRows = Math.max(1, Math.min(10_000, Math.floor(this.o.maxBufferRows / 4)));
    this.backlogRows = this.o.batchRows * BACKLOG_BATCH_FACTOR;
    this.backlogFrom = Math.max(this.o.batchRows, Math.floor(this.o.maxBufferRows * BACKLOG_BUFFER_SHARE));
    this.spool = new Spool(this.o.dataDir);
    const shared = {
      pool: this.pool,
      stats: this.stats,
      clock: this.clock,
      log: this.log,
      limited: this.limited,
      settings: this.o,
    };
    this.writer = new BatchWriter({
      ...shared,
      notify: (n) => this.notify(n),
      deadline: this.deadline.signal,
      onRecovered: () => this.replay.wake(),
    });
    // Two workers on the high-volume tables: the second only helps while a backlog of full batches waits
    // (catch-up after an outage). Two versions of one candle in flight at once are safe: the
    // no-partial-overwrite rule keeps the fuller one whichever commits last.
    const lane = <T extends object>(
      table: TableName,
      write: (rows: T[]) => Promise<WriteResult>,
      workers = 1,
    ): Lane<T> => {
      const l: Lane<T> = {
        table,
        queue: new RowQueue<T>(),
        inflight: new Set(),
        write,
        wake: new Set(),
        done: Promise.resolve(),
        pushed: 0,
        taken: 0,
        batchFrom: new Map(),
      };
      l.done = Promise.all(Array.from({ length: workers }, (_, w) => this.runLane(l, w))).then(
        () => undefined,
      );
      return l;
    };
    this.lanes = {
      candles_1s: lane('candles_1s', (rows) => upsertSecondCandles(this.pool, rows, opts.fence?.()), 2),
      candles_100t: lane('candles_100t', (rows) => upsertTickCandles(this.pool, rows, opts.fence?.())),
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
    this.overflow = new Overflow({
      spool: this.spool,
      stats: this.stats,
      clock: this.clock,
      log: this.log,
      limited: this.limited,
      lanes: () => Object.values(this.lanes) as OverflowLane[],
      hardMaxRows: this.o.hardMaxRows,
      chunkRows: this.chunkRows,
      onDropped: (table, rows) => this.notify({ table, committed: NONE, refused: NONE, dropped: rows }),
    });
    this.replay = new SpoolReplay({
      ...shared,
      spool: this.spool,
      isStopping: () => this.stopping,
      spoolWrites: () => this.overflow.settled(),
      write: async (table, rows) => {
        const lane = this.lanes[table] as Lane<object>;
        for (let i = 0; i < rows.length; i += this.o.batchRows) {
          if (!(await this.writer.writeWithRetry(lane, rows.slice(i, i + this.o.batchRows)))) return false;
          await yieldToLoop();
        }
        return true;
      },
    });
  }

  /**
   * Listens to the commit notice (sinkTypes.ts CommitNotice): called synchronously, in order, after each
   * statement commits or rows are set aside. A listener must not throw or block. Returns the unsubscribe.
   */
  onCommit(fn: CommitListener): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  private notify(n: CommitNotice): void {
    for (const fn of this.listeners) {
      try {
        fn(n);
      } catch (err) {
        this.log.error({ err: String(err), table: n.table }, 'a commit listener threw');
      }
    }
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
      this.notify({ table: lane.table, committed: NONE, refused: NONE, dropped: [row] });
      this.limited.event(
        'store.push-after-stop',
        'error',
        { table: lane.table },
        'row pushed after the sink stopped',
      );
      return;
    }
    lane.queue.push(row);
    lane.pushed++;
    this.stats.rowsPushed++;
    this.stats.bufferedRows++;
    if (lane.queue.length >= this.o.batchRows && lane.wake.size > 0) {
      // Once per sleep: abort() builds a DOMException on every call, and a flush pushes 5,000 rows at once.
      for (const w of lane.wake) w.abort();
      lane.wake.clear();
    }
    if (this.stats.bufferedRows > this.o.maxBufferRows) this.overflow.check();
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
      // A backlog (an outage's catch-up, a spool replay) goes in larger statements, up to backlogRows each.
      // A second's burst of candles is not one: each statement is built on the thread that reads the feed,
      // and 2,000 rows took 2.3 ms (p90 3.6) before pg serialised them (docs/ARCHITECTURE.md, sink).
      const batch = lane.queue.take(
        lane.queue.length > this.backlogFrom ? this.backlogRows : this.o.batchRows,
      );
      lane.inflight.add(batch);
      lane.batchFrom.set(batch, lane.taken);
      lane.taken += batch.length;
      const ok = await this.writer.writeWithRetry(lane, batch);
      // Abandoned at the deadline: leave the batch in `inflight`, stop() spools it.
      if (this.closed || !ok) return;
      lane.inflight.delete(batch);
      lane.batchFrom.delete(batch);
      this.stats.bufferedRows -= batch.length;
      await yieldToLoop(); // the feed reads on this thread: never run batches back to back without a turn
    }
  }

  /**
   * Resolves true once every candle pushed before the call is settled (written, dead-lettered or spooled),
   * whatever is pushed meanwhile; false after `maxWaitMs`. A shard handover waits on it before unlocking.
   */
  async candlesSettled(maxWaitMs = 5_000): Promise<boolean> {
    const lanes = [this.lanes.candles_1s, this.lanes.candles_100t] as Lane<object>[];
    const marks = lanes.map((l) => l.pushed);
    const until = this.clock.now() + maxWaitMs;
    for (;;) {
      const done = lanes.every(
        (l, i) => l.taken >= marks[i]! && [...l.batchFrom.values()].every((from) => from >= marks[i]!),
      );
      if (done) return true;
      if (this.closed || this.clock.now() >= until) return false;
      for (const l of lanes) for (const w of l.wake) w.abort();
      await this.clock.sleep(Math.min(50, this.o.flushMs));
    }
  }

  /**
   * Resolves true once no 100-tick candle from an earlier run waits in the spool and the ones pushed before
   * the call are settled (so a resume reads what the previous run wrote); false after `maxWaitMs` or on
   * abort: collecting must not wait on an outage.
   */
  async spoolDrained(signal?: AbortSignal, maxWaitMs = 30_000): Promise<boolean> {
    const until = this.clock.now() + maxWaitMs;
    const lane = this.lanes.candles_100t as Lane<object>;
    // Rows pushed from now on are this run's: waiting for an ever-refilling queue (at 400k trades/s it is
    // never empty) held every resume its full wait and listed the spool folder four times a second.
    const mark = lane.pushed;
    this.replay.wake(); // files may be waiting for the replay's idle timer: look now
    for (;;) {
      await this.overflow.settled();
      const files = (await this.spool.list()).filter((f) => f.endsWith('-candles_100t.jsonl'));
      const settled = lane.taken >= mark && [...lane.batchFrom.values()].every((from) => from >= mark);
      if (files.length === 0 && settled) return true;
      if (signal?.aborted || this.clock.now() >= until) {
        this.log.warn({ files: files.length }, 'resuming 100-tick candles before the spool was replayed');
        return false;
      }
      await this.clock.sleep(this.o.flushMs, signal);
    }
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
    this.replay.wake();
    const lanes = Object.values(this.lanes) as AnyLane[];
    for (const l of lanes) for (const w of l.wake) w.abort();
    const timer = new AbortController();
    const drained = (async () => {
      await Promise.all(lanes.map((l) => l.done));
      // A spool write that failed after its lane ended put its rows back in the queue: write those too.
      await this.overflow.settled();
      const left = lanes.filter((l) => l.queue.length > 0) as Lane<object>[];
      for (const l of left) l.done = this.runLane(l, 0);
      await Promise.all(left.map((l) => l.done));
      return true;
    })();
    const expired = this.clock.sleep(deadlineMs, timer.signal).then(() => false);
    const inTime = await Promise.race([drained, expired]);
    timer.abort();
    this.closed = true;
    this.deadline.abort(); // lanes in a backoff sleep return now; one awaiting a query is abandoned
    // The replay loop may sit in a probe query on a black-holed link: never past the deadline for it.
    const grace = new AbortController();
    await Promise.race([this.replay.done, this.clock.sleep(inTime ? 1_000 : 200, grace.signal)]);
    grace.abort();
    // Whatever is still unwritten (the deadline came first) is spooled for the next start.
    await this.overflow.settled();
    const spooling: Promise<number>[] = [];
    for (const l of lanes) {
      const rows = [...[...l.inflight].flat(), ...l.queue.take(l.queue.length)] as object[];
      if (rows.length > 0) spooling.push(this.overflow.spoolAtStop(l.table, rows));
    }
    this.stats.bufferedRows = 0;
    let spooledAtStop = 0;
    for (const n of await Promise.all(spooling)) spooledAtStop += n;
    this.limited.stop();
    const summary: SinkSummary = {
      written: { ...this.stats.rowsWritten },
      deadLettered: this.stats.deadLettered,
      spooledAtStop,
      spoolDir: this.spool.dir,
      lostRows: this.stats.lostRows,
    };
    if (summary.lostRows > 0) this.log.error(summary, `sink stopped: ${summary.lostRows} rows lost`);
    else if (spooledAtStop > 0)
      this.log.warn(summary, 'sink stopped at its deadline: unwritten rows spooled for the next start');
    else this.log.info(summary, 'sink drained');
    return summary;
  }
}
