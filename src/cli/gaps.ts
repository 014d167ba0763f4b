// `tick-collector gaps [--date D] [--json]`: the gap ledger with each row's fill state.
import { etDayNamed } from '../aggregate/etDay.js';
import type { Config, Flags } from '../config/load.js';
import { DERIVE_LOOKBACK_DAYS, deriveAndStore } from '../ledger/gapStore.js';
import { createLogger } from '../log/logger.js';
import { openDatabase } from '../store/database.js';
import { migrationsApplied } from '../store/schema/migrate.js';
import { type GapRow, listGaps } from '../store/write/writeGaps.js';
import { stringFlag } from './args.js';
import { parseDateFlag } from './backfill.js';
import { formatTable } from './table.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function gapState(g: GapRow): string {
  return g.filledAt !== null ? 'filled' : g.fillError ? `unfilled: ${g.fillError}` : 'unfilled';
}

export async function gapsCommand(config: Config, flags: Flags): Promise<number> {
  const date = parseDateFlag(stringFlag(flags, '--date'));
  const db = await openDatabase(config, createLogger({ level: 'warn' }));
  try {
    const status = await migrationsApplied(db.pool);
    if (status.applied.length === 0) {
      process.stderr.write(`no gaps yet: ${db.target} has no tables (run the collector first)\n`);
      return 1;
    }
    // The ledger is derived: bring the days shown up to date first (coverage may have grown since).
    await deriveAndStore(db.pool, {
      now: Date.now(),
      tailMs: config.sessionTailMs,
      ...(date ? { dates: [date] } : { days: DERIVE_LOOKBACK_DAYS }),
    }).catch((err: unknown) => process.stderr.write(`could not derive the gaps anew: ${String(err)}\n`));
    const day = date ? etDayNamed(date) : null;
    const rows = await listGaps(db.pool, day ? { fromMs: day.start, toMs: day.end } : {});
    if (flags['--json']) {
      for (const g of rows) {
        process.stdout.write(
          `${JSON.stringify({ ...g, startedAt: iso(g.startedAt), endedAt: iso(g.endedAt), filledAt: iso(g.filledAt) })}\n`,
        );
      }
    } else if (rows.length === 0) {
      process.stdout.write(`no gaps${date ? ` on ${date}` : ''} in ${db.target}\n`);
    } else {
      const table = rows.map((g) => [
        g.id,
        g.symbol === '*' ? `* (${g.symbols.length})` : g.symbol,
        iso(g.startedAt),
        ((g.endedAt - g.startedAt) / 1000).toFixed(1),
        g.reason,
        gapState(g),
        g.filledTrades,
      ]);
      process.stdout.write(
        `${formatTable(['id', 'symbol', 'started', 'seconds', 'reason', 'state', 'trades'], table)}\n`,
      );
    }
    return 0;
  } finally {
    await db.close();
  }
}
