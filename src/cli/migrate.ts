// `tick-collector migrate`: apply pending migrations and say which.
import type { Config } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { openDatabase } from '../main/database.js';
import { migrate } from '../store/migrate.js';

export async function migrateCommand(config: Config): Promise<number> {
  const log = createLogger({ level: 'warn' });
  const db = await openDatabase(config, log);
  try {
    const applied = await migrate(db.pool);
    process.stdout.write(
      applied.length > 0 ? `applied ${applied.join(', ')} to ${db.target}\n` : `${db.target} is up to date\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
