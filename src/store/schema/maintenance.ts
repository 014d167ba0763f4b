// The storage maintenance loop (startMaintenance): the overnight work, off the trade path.
// At start-up and then daily, convert tables that are still plain heaps (small ones only: a big one waits for
// `tick-collector migrate --partition`), create partitions ahead, file rows that landed in a default
// partition, drop partitions past their retention, and roll up the 1-second history into candles_1m. One
// { promise, stop() } loop started by the collector.
import type pg from 'pg';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../log/logger.js';
import { describeError } from '../db/errors.js';
import { convertToPartitioned } from './partitionConvert.js';
import { PARTITIONED } from './partitionSpec.js';
import { AHEAD_DAYS, ensurePartitions, fileDefaultRows, isPartitioned } from './partitions.js';
import { type Dropped, dropExpired, type RetentionDays } from './retention.js';
import { backfillMinutes } from './rollupBackfill.js';

const DAY = 86_400_000;
/** Above this many rows a plain table is converted only by `migrate --partition` (it copies the table). */
export const AUTO_CONVERT_MAX_ROWS = 1_000_000;

export interface StorageOptions {
  now: number;
  log: Logger;
  /** Convert plain tables of any size (`migrate --partition`). */
  convertAll?: boolean;
  retention?: RetentionDays;
  signal?: AbortSignal;
}

export interface StorageReport {
  converted: string[];
  /** Plain tables left for `migrate --partition`. */
  unconverted: string[];
  created: string[];
  filed: number;
  dropped: Dropped[];
  minutesRolledUp: number;
}

/** One pass of the maintenance. Throws on a database error (the loop logs it and tries again later). */
export async function maintainStorage(pool: pg.Pool, opts: StorageOptions): Promise<StorageReport> {
  const log = opts.log.child({ component: 'storage' });
  const report: StorageReport = {
    converted: [],
    unconverted: [],
    created: [],
    filed: 0,
    dropped: [],
    minutesRolledUp: 0,
  };
  for (const t of PARTITIONED) {
    if (!(await isPartitioned(pool, t.table))) {
      const n = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${t.table} LIMIT ${AUTO_CONVERT_MAX_ROWS + 1}) AS x`,
      );
      if (!opts.convertAll && n.rows[0]!.n > AUTO_CONVERT_MAX_ROWS) {
        report.unconverted.push(t.table);
        log.warn(
          { table: t.table },
          `${t.table} is not partitioned and holds over ${AUTO_CONVERT_MAX_ROWS} rows: run "tick-collector migrate --partition" (online; see README)`,
        );
        continue;
      }
    }
    // Also finishes a conversion a previous run left half done.
    const r = await convertToPartitioned(pool, t, { now: opts.now, log });
    if (r.swapped) report.converted.push(t.table);
    report.created.push(...(await ensurePartitions(pool, t, opts.now - DAY, opts.now + AHEAD_DAYS * DAY)));
    report.filed += await fileDefaultRows(pool, t, log);
  }
  report.dropped = await dropExpired(pool, opts.now, opts.retention ?? {}, log);
  if (await isPartitioned(pool, 'candles_1s'))
    report.minutesRolledUp = await backfillMinutes(pool, opts.signal);
  return report;
}

export interface Maintenance {
  promise: Promise<void>;
  stop(): void;
}

/** Runs maintainStorage now and every `everyMs` (default daily) until stopped; failures are logged. */
export function startMaintenance(deps: {
  pool: pg.Pool;
  clock: Clock;
  log: Logger;
  retention: RetentionDays;
  everyMs?: number;
  /** Stops it too (the collector's shutdown). */
  signal?: AbortSignal;
}): Maintenance {
  const abort = new AbortController();
  deps.signal?.addEventListener('abort', () => abort.abort(), { once: true });
  const log = deps.log.child({ component: 'storage' });
  const promise = (async () => {
    while (!abort.signal.aborted) {
      try {
        const r = await maintainStorage(deps.pool, {
          now: deps.clock.now(),
          log: deps.log,
          retention: deps.retention,
          signal: abort.signal,
        });
        if (r.created.length > 0) log.debug({ created: r.created }, `${r.created.length} partitions created`);
      } catch (err) {
        if (abort.signal.aborted) return;
        log.warn(
          { err: describeError(err) },
          `storage maintenance failed (${describeError(err)}); next try in an hour`,
        );
        await deps.clock.sleep(3_600_000, abort.signal);
        continue;
      }
      await deps.clock.sleep(deps.everyMs ?? DAY, abort.signal);
    }
  })();
  return { promise, stop: () => abort.abort() };
}
