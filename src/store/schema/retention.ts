// Retention (dropExpired): whole partitions past their RETENTION_*_DAYS setting dropped.
// Retention (RETENTION_1S_DAYS, RETENTION_TICKS_DAYS, RETENTION_100T_DAYS; unset = keep everything): whole
// partitions whose every row is older than the setting are dropped, never rows one by one. Dropping a
// 1-second partition leaves candles_1m as it was (no trigger fires on a DROP).
import type pg from 'pg';
import type { Logger } from '../../log/logger.js';
import { nextPeriod, PARTITIONED, type PartitionedTable } from './partitionSpec.js';
import { inLockedTx, listPartitions } from './partitions.js';

const DAY = 86_400_000;

export type RetentionDays = Partial<Record<PartitionedTable['table'], number | null>>;

export interface Dropped {
  table: string;
  partition: string;
}

/**
 * Drops the partitions of each table with a retention whose range ends on or before the start of the UTC
 * day `days` days before `now`. Logs one line per partition dropped.
 */
export async function dropExpired(
  pool: pg.Pool,
  now: number,
  days: RetentionDays,
  log: Logger,
): Promise<Dropped[]> {
  const out: Dropped[] = [];
  for (const t of PARTITIONED) {
    const keep = days[t.table];
    if (keep === null || keep === undefined) continue;
    const cutoff = Math.floor(now / DAY) * DAY - keep * DAY;
    const parts = [...(await listPartitions(pool, t))].sort((a, b) => a[0] - b[0]);
    for (const [start, name] of parts) {
      if (nextPeriod(t.unit, start) > cutoff) break;
      await inLockedTx(pool, (c) => c.query(`DROP TABLE ${name}`));
      log.info(
        { table: t.table, partition: name, retentionDays: keep },
        `retention: dropped ${name} (older than ${keep} days)`,
      );
      out.push({ table: t.table, partition: name });
    }
  }
  return out;
}
