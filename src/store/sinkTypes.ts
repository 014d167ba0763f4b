// The sink's options, counters and stop summary (re-exported by sink.ts, which callers import).
import type pg from 'pg';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import type { TableName } from './spool.js';

export interface SinkOptions {
  pool: pg.Pool;
  /** Spool and dead-letter files go under it. */
  dataDir: string;
  log?: Logger;
  clock?: Clock;
  flushMs?: number;
  /**
   * Rows per statement while the sink keeps up. With a backlog (more than this queued) one statement takes
   * up to 4× as many: per-statement costs (round trip, parse, plan, commit) then amortise over more rows.
   */
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
  /**
   * Replicas (cluster/): the lock backend pid to fence candle writes with, read per statement (-1 when no
   * lock connection). Absent: unfenced, as with one collector on PGlite.
   */
  fencePid?: () => number;
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

/** The resolved options (every default applied). */
export type SinkSettings = Required<Omit<SinkOptions, 'pool' | 'log' | 'clock' | 'fencePid'>>;
