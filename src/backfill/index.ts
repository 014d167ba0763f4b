// The backfill as the daemon and the CLI use it (createTickApi, backfillPass).
// The tick API client built from the configuration (the simulator's own tick API in local mode), and one pass
// over the ledger.
import { join } from 'node:path';
import type pg from 'pg';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { SimTape } from '../feed/sim/tape.js';
import { DERIVE_LOOKBACK_DAYS, deriveAndStore } from '../ledger/gapStore.js';
import type { Logger } from '../log/logger.js';
import { RequestLimits } from './limits.js';
import { type BackfillRequest, type BackfillResult, runBackfill } from './runner.js';
import { TickApi } from './tickApi.js';

export { describeCounts, type ReplaceCounts } from './completeness.js';
export { createOvernightStats, type OvernightStats, runOvernight } from './overnight.js';
export { type BackfillResult, type GapOutcome, runBackfill } from './runner.js';

/** EODHD allows 1,000 requests a minute: stay under it with room for the other API users of the key. */
export const REQUESTS_PER_MINUTE = 900;

/** Where the simulator keeps its tape in local mode. */
export function simTapeFile(config: Config): string {
  return join(config.dataDir, 'sim-tape.jsonl');
}

export function createTickApi(
  config: Config,
  clock: Clock,
  baseUrl: string,
  limits = new RequestLimits(clock, REQUESTS_PER_MINUTE, config.backfillMaxCallsPerDay),
): TickApi {
  return new TickApi({ baseUrl, token: config.eodhdApiToken ?? 'local', clock, limits });
}

/** Reads the simulator's tape file (local mode, no collector running): for a tick API on loopback. */
export function openSimTape(config: Config): SimTape {
  return new SimTape(simTapeFile(config));
}

export async function backfillPass(
  config: Config,
  deps: { pool: pg.Pool; api: TickApi; clock: Clock; log: Logger },
  opts: Partial<Pick<BackfillRequest, 'date' | 'symbols' | 'dryRun' | 'onGap' | 'shouldStop'>> = {},
): Promise<BackfillResult> {
  // The gaps are derived from coverage: bring them up to date before filling them. A dry run changes nothing,
  // not even the ledger: it reads the gaps as last derived (the daemon and `gaps` derive them).
  if (!opts.dryRun) {
    await deriveAndStore(deps.pool, {
      now: deps.clock.now(),
      tailMs: config.sessionTailMs,
      ...(opts.date ? { dates: [opts.date] } : { days: DERIVE_LOOKBACK_DAYS }),
    });
  }
  return runBackfill({
    ...deps,
    // Never SKIP_MARKET_HOURS: each gap is rebuilt under the rules its collection ran under (its mode).
    settings: {
      candleLatenessMs: config.candleLatenessMs,
      candleIntervalMs: config.candleIntervalMs,
      tickCandleSize: config.tickCandleSize,
      sessionTailMs: config.sessionTailMs,
      candleConditions: config.candleConditions,
    },
    // Shared by every process backfilling this database (replicas): one budget between them.
    budget: { perMinute: REQUESTS_PER_MINUTE, perDay: config.backfillMaxCallsPerDay },
    ...opts,
  });
}
