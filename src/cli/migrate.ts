// `tick-collector migrate [--partition]`: apply pending migrations and say which.
// With --partition also convert the candle and tick tables to partitions, whatever their size (online: the
// collector may run).
import type { Config, Flags } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { openDatabase } from '../store/database.js';
import { maintainStorage } from '../store/schema/maintenance.js';
import { migrate } from '../store/schema/migrate.js';

export async function migrateCommand(config: Config, flags: Flags = {}): Promise<number> {
  const log = createLogger({ level: flags['--partition'] ? 'info' : 'warn' });
  const db = await openDatabase(config, log);
  try {
    const applied = await migrate(db.pool);
    process.stdout.write(
      applied.length > 0 ? `applied ${applied.join(', ')} to ${db.target}\n` : `${db.target} is up to date\n`,
    );
    if (flags['--partition']) {
      const r = await maintainStorage(db.pool, { now: Date.now(), log, convertAll: true });
      process.stdout.write(
        `partitioned: ${r.converted.length > 0 ? r.converted.join(', ') : 'nothing left to convert'}; ` +
          `${r.created.length} partitions created, ${r.minutesRolledUp} minutes rolled up into candles_1m\n`,
      );
    }
    return 0;
  } finally {
    await db.close();
  }
}
