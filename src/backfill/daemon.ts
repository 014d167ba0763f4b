// The overnight backfill as a daemon part (BACKFILL=auto), started by startGapKeeper.
// Passes over the derived gaps while the scheduler waits for the next open. main wires it with a few lines.
import type pg from 'pg';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { backfillPass, createTickApi } from './index.js';
import { createOvernightStats, type OvernightStats, runOvernight } from './overnight.js';

export interface GapKeeperDeps {
  pool: pg.Pool;
  clock: Clock;
  log: Logger;
  /** The scheduler is waiting for the next open (the only time a backfill runs). */
  waiting: () => boolean;
  /** The tick API base: the in-process simulator's in local mode. */
  apiUrl: string;
  signal: AbortSignal;
}

export interface GapKeeper {
  stats: OvernightStats;
  /** Ends the loop (a pass stops between symbols). Bounded by the caller. */
  stop(): Promise<void>;
}

export function startGapKeeper(config: Config, d: GapKeeperDeps): GapKeeper {
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
    async stop() {
      await Promise.race([overnight, d.clock.sleep(500)]);
    },
  };
}
