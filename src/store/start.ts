// The store's running parts as the daemon starts them (startSink, startStorageMaintenance).
// The sink (its bounds from the settings) and the storage maintenance, each on the connection the database
// gives it.
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { Database } from './database.js';
import { type Maintenance, startMaintenance } from './schema/maintenance.js';
import { Sink } from './sink/sink.js';
import type { WriteFence } from './write/writeCandles.js';

/** The sink, writing to the database's pool; `fence` is the cluster's write fence (unused on the embedded database). */
export function startSink(
  config: Config,
  database: Database,
  d: { log: Logger; clock: Clock; fence: () => WriteFence },
): Sink {
  return new Sink({
    pool: database.pool,
    dataDir: config.dataDir,
    log: d.log,
    clock: d.clock,
    flushMs: config.sinkFlushMs,
    batchRows: config.sinkBatchRows,
    maxBufferRows: config.sinkMaxBufferRows,
    hardMaxRows: config.sinkHardMaxRows,
    archiveTicks: config.archiveTicks,
    queryTimeoutMs: config.dbQueryTimeoutMs,
    // PGlite's socket server does not speak COPY FROM STDIN: archive through batched INSERTs there.
    ticksVia: database.embedded ? 'insert' : 'copy',
    // Replicas: candle writes skip the symbols whose shard another collector holds (cluster/fence.ts).
    ...(database.embedded ? {} : { fence: d.fence }),
  });
}

/** Partitions ahead, retention, the 1m history: at start-up and daily, on its own connection. */
export function startStorageMaintenance(
  config: Config,
  database: Database,
  d: { log: Logger; clock: Clock; signal: AbortSignal },
): Maintenance {
  return startMaintenance({
    pool: database.embedded ? database.pool : database.extraPool('tick-collector-storage'),
    clock: d.clock,
    log: d.log,
    signal: d.signal,
    retention: {
      candles_1s: config.retention1sDays,
      ticks: config.retentionTicksDays,
      candles_100t: config.retention100tDays,
    },
  });
}
