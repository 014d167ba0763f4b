// The sink's options, counters and stop summary (re-exported by sink.ts, which callers import).
import type pg from 'pg';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../log/logger.js';
import type { WriteFence } from '../write/writeCandles.js';
import type { TableName } from './spool.js';

export interface SinkOptions {
  pool: pg.Pool;
  /** Spool and dead-letter files go under it. */
  dataDir: string;
  log?: Logger;
  clock?: Clock;
  /** Unset: the settings' defaults (SINK_FLUSH_MS, SINK_BATCH_ROWS, SINK_MAX_BUFFER_ROWS, SINK_HARD_MAX_ROWS). */
  flushMs?: number;
  /**
   * Rows per statement while the sink keeps up. With a backlog (more than this queued) one statement takes
   * up to 4× as many: per-statement costs (round trip, parse, plan, commit) then amortise over more rows.
   */
  batchRows?: number;
  maxBufferRows?: number;
  /**
   * While the spool cannot be written (disk full), rows stay in memory past maxBufferRows up to this many;
   * beyond it the oldest are dropped and counted in lostRows. At least maxBufferRows.
   */
  hardMaxRows?: number;
  archiveTicks?: boolean;
  /** How ticks are archived: COPY (real server, ~4x faster) or an INSERT (embedded PGlite: no COPY). */
  ticksVia?: 'copy' | 'insert';
  /** Bounds a COPY (query_timeout does not reach it); use the pool's query timeout. */
  queryTimeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  random?: () => number;
  /**
   * Replicas: the write fence the cluster hands in (cluster/fence.ts `writeFence`), read per statement.
   * Absent: unfenced, as with one collector on PGlite.
   */
  fence?: () => WriteFence;
}

/**
 * The sink's one word on what became of rows, in the order it learns it: after each statement commits (or a
 * row is set aside), never before. The ledger's coverage, the publisher and the page's live stream listen
 * to it and to nothing earlier. Every row pushed ends in exactly one notice, except rows still buffered or
 * spooled (a spooled row gets its notice when the replay commits it, in this run or the next).
 */
export interface CommitNotice {
  table: TableName;
  /** Rows the database now holds (this version, or a fuller or tape one it kept), as pushed. */
  committed: readonly object[];
  /** Rows the replica write fence refused: a peer holds their symbol's shard. Not stored. */
  refused: readonly object[];
  /** Rows dead-lettered (rejected by the database) or lost (neither written nor spooled). Not stored. */
  dropped: readonly object[];
}

export type CommitListener = (n: CommitNotice) => void;

export interface SinkStats {
  /** Rows taken by push/pushTick/pushGap. */
  rowsPushed: number;
  rowsWritten: Record<TableName, number>;
  batches: number;
  retries: number;
  deadLettered: number;
  /** Rows in memory (queued or in flight). */
  bufferedRows: number;
  /** Rows durably written to the spool (counter: fsync'd and renamed) and read back from it (counter). */
  spooledRows: number;
  replayedRows: number;
  /**
   * Rows that could be neither written, dead-lettered nor spooled: dropped at SINK_HARD_MAX_ROWS while the
   * spool could not be written, unspoolable at stop, or pushed after stop. Counter; > 0 = /health degraded.
   */
  lostRows: number;
  /** Candle rows the replica write fence refused (a peer holds the shard): not stored, time left uncovered. */
  fencedRows: number;
  /** Spool writes that failed (counter), and the last failure. */
  spoolErrors: number;
  lastSpoolError: string | null;
  lastWriteAt: number | null;
  lastError: string | null;
  connected: boolean;
}

export interface SinkSummary {
  written: Record<TableName, number>;
  deadLettered: number;
  /** Rows left unwritten at the deadline and durably spooled for the next start. */
  spooledAtStop: number;
  spoolDir: string;
  lostRows: number;
}

/** The resolved options (every default applied). */
export type SinkSettings = Required<Omit<SinkOptions, 'pool' | 'log' | 'clock' | 'fence'>>;
