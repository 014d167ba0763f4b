// What the running collector does for the ledger, in one part: the durable run mark (with the unclean-stop,
// late-start and stop gaps) and, with BACKFILL=auto, the overnight backfill. main wires it with a few lines.
import type pg from 'pg';
import { statusAt } from '../calendar/index.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { ConnectionStats } from '../feed/stats.js';
import type { Logger } from '../log/logger.js';
import type { FeedGap } from '../store/writeGaps.js';
import { backfillPass, createTickApi } from './index.js';
import { createOvernightStats, type OvernightStats, runOvernight } from './overnight.js';
import { startRunMark } from './runMark.js';

export interface GapKeeperDeps {
  pool: pg.Pool;
  clock: Clock;
  log: Logger;
  sink: { stats: { rowsPushed: number; bufferedRows: number }; pushGap: (g: FeedGap) => void };
  connections: () => readonly ConnectionStats[];
  /** The scheduler is waiting for the next open (the only time a backfill runs). */
  waiting: () => boolean;
  /** The tick API base: the in-process simulator's in local mode. */
  apiUrl: string;
  signal: AbortSignal;
  /**
   * Keep the durable run mark (unclean stop, late start, stop gaps). Off with replicas on PostgreSQL: there the
   * shard marks record the same gaps per shard, whoever held it before (src/main/session.ts, recordHandover).
   */
  runMark: boolean;
}

export interface GapKeeper {
  stats: OvernightStats;
  /** The feed stopped (shutdown): records the stop gap. Before the sink drains. */
  stopping(): void;
  /** After the sink drained: `clean` when nothing was lost. Bounded by the caller. */
  stop(clean: boolean): Promise<void>;
}

export async function startGapKeeper(config: Config, d: GapKeeperDeps): Promise<GapKeeper> {
  const mark = !d.runMark
    ? null
    : await startRunMark({
        pool: d.pool,
        clock: d.clock,
        log: d.log,
        symbols: config.symbols,
        sink: d.sink.stats,
        connections: d.connections,
        // A trade waits up to interval + grace in the aggregators, and up to a flush tick more, before it is pushed.
        holdMs: config.candleIntervalMs + config.candleGraceMs + 250,
        sessionAt: (now) => {
          const s = statusAt(now);
          return s.open ? s.session : null;
        },
        tailMs: config.sessionTailMs,
        skipMarketHours: config.skipMarketHours,
        pushGap: (g) => d.sink.pushGap(g),
      });
  const stats = createOvernightStats();
  const api = createTickApi(config, d.clock, d.apiUrl);
  const overnight =
    config.backfill === 'auto'
      ? runOvernight(
          {
            clock: d.clock,
            log: d.log,
            signal: d.signal,
            collecting: () => !d.waiting(),
            pass: (stop) =>
              backfillPass(config, { pool: d.pool, api, clock: d.clock, log: d.log }, { shouldStop: stop }),
          },
          stats,
        )
      : Promise.resolve();
  return {
    stats,
    stopping: () => mark?.stopping(),
    async stop(clean) {
      // The overnight loop ends on the signal (a pass stops between symbols); the mark is written last.
      await Promise.race([overnight, d.clock.sleep(500)]);
      await mark?.stop(clean);
    },
  };
}
