// The ledger as the daemon starts it: this run's id and mode, the symbols owed, on the database's pool.
import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { Database } from '../store/database.js';
import { type Ledger, type LedgerDeps, startLedger } from './ledger.js';

export function startRunLedger(
  config: Config,
  database: Database,
  d: Pick<LedgerDeps, 'sink' | 'connections' | 'heldFrom'> & { log: Logger; clock: Clock; startedAt: number },
): Promise<Ledger> {
  return startLedger({
    pool: database.pool,
    clock: d.clock,
    log: d.log,
    sink: d.sink,
    connections: d.connections,
    heldFrom: d.heldFrom,
    mode: config.skipMarketHours ? 'skip' : 'calendar',
    symbols: config.symbols,
    intervalMs: config.candleIntervalMs,
    tailMs: config.sessionTailMs,
    runId: `${hostname()}-${process.pid}-${d.startedAt}`,
  });
}
