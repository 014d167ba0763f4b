// `tick-collector candles`: the latest stored candles, as a table or JSON lines.
import type { Candle } from '../aggregate/types.js';
import { type Config, ConfigError, type Flags } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { openDatabase } from '../main/database.js';
import { migrationsApplied } from '../store/migrate.js';
import { latestCandles } from '../store/queries.js';
import { stringFlag } from './args.js';
import { withIsoTimes, writeJsonLines } from './json.js';
import { formatTable, num } from './table.js';

const iso = (ms: number) => new Date(ms).toISOString();

const jsonRow = (c: Candle) =>
  c.kind === '1s'
    ? withIsoTimes(c, ['bucket', 'firstTradeAt', 'lastTradeAt'])
    : withIsoTimes(c, ['startAt', 'endAt']);

function toRow(c: Candle): (string | number | null)[] {
  const common = [
    num(c.open),
    num(c.high),
    num(c.low),
    num(c.close),
    num(c.volume),
    c.tradeCount,
    num(c.vwap),
  ];
  return c.kind === '1s'
    ? [c.symbol, iso(c.bucket), ...common]
    : [c.symbol, c.sessionDate, c.seq, ...common, iso(c.startAt), iso(c.endAt)];
}

const HEADERS = {
  '1s': ['symbol', 'bucket', 'open', 'high', 'low', 'close', 'volume', 'trades', 'vwap'],
  '100t': [
    'symbol',
    'session',
    'seq',
    'open',
    'high',
    'low',
    'close',
    'volume',
    'trades',
    'vwap',
    'start',
    'end',
  ],
};

export async function candlesCommand(config: Config, flags: Flags): Promise<number> {
  const kind = stringFlag(flags, '--kind') ?? '1s';
  if (kind !== '1s' && kind !== '100t') throw new ConfigError('--kind', `must be 1s or 100t, got "${kind}"`);
  const limitRaw = stringFlag(flags, '--limit') ?? '20';
  const limit = Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
    throw new ConfigError('--limit', `must be a whole number from 1 to 100000, got "${limitRaw}"`);
  }
  const symbol = stringFlag(flags, '--symbol')?.trim().toUpperCase();
  const db = await openDatabase(config, createLogger({ level: 'warn' }));
  try {
    const status = await migrationsApplied(db.pool);
    if (status.applied.length === 0) {
      process.stderr.write(`no candles yet: ${db.target} has no tables (run the collector first)\n`);
      return 1;
    }
    const rows = await latestCandles(db.pool, { kind, limit, ...(symbol ? { symbol } : {}) });
    if (flags['--json']) {
      writeJsonLines(rows.map(jsonRow));
    } else if (rows.length === 0) {
      process.stdout.write(`no ${kind} candles${symbol ? ` for ${symbol}` : ''} in ${db.target}\n`);
    } else {
      process.stdout.write(`${formatTable(HEADERS[kind], rows.map(toRow))}\n`);
    }
    return 0;
  } finally {
    await db.close();
  }
}
