// `tick-collector news`: the latest stored news items.

import { type Config, ConfigError, type Flags } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { redactUrl } from '../log/redact.js';
import { openDatabase } from '../store/database.js';
import { migrationsApplied } from '../store/schema/migrate.js';
import { stringFlag } from './args.js';
import { writeJsonLines } from './json.js';
import { formatTable } from './table.js';

interface NewsRow {
  published_at: Date | null;
  feed: string;
  title: string | null;
  symbols: string[];
  link: string | null;
}

export async function newsCommand(config: Config, flags: Flags): Promise<number> {
  const limitRaw = stringFlag(flags, '--limit') ?? '20';
  const limit = Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new ConfigError('--limit', `must be a whole number from 1 to 10000, got "${limitRaw}"`);
  }
  const db = await openDatabase(config, createLogger({ level: 'warn' }));
  try {
    if ((await migrationsApplied(db.pool)).applied.length === 0) {
      process.stderr.write(`no news yet: ${db.target} has no tables (run the collector first)\n`);
      return 1;
    }
    const { rows } = await db.pool.query<NewsRow>(
      `SELECT published_at, feed, title, symbols, link FROM news_items
       ORDER BY published_at DESC NULLS LAST, id DESC LIMIT $1`,
      [limit],
    );
    if (flags['--json']) {
      // published_at is a Date: JSON gives ISO-8601 UTC. The feed's URL without its credentials.
      writeJsonLines(rows.map((r) => ({ ...r, feed: redactUrl(r.feed) })));
    } else if (rows.length === 0) {
      process.stdout.write(`no news items in ${db.target}\n`);
    } else {
      const table = rows.map((r) => [
        r.published_at ? r.published_at.toISOString().slice(0, 16).replace('T', ' ') : '',
        r.symbols.join(','),
        (r.title ?? '').slice(0, 80),
        new URL(r.feed).host,
      ]);
      process.stdout.write(`${formatTable(['published (UTC)', 'symbols', 'title', 'feed'], table)}\n`);
    }
    return 0;
  } finally {
    await db.close();
  }
}
