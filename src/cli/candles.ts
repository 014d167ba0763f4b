// `tick-collector candles`: the latest stored candles (1s, 100t) or bars (1m, 5m, 1h, 1d).
// As a table or JSON lines.
import type { Candle } from '../aggregate/types.js';
import { type Config, ConfigError, type Flags } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { openDatabase } from '../store/database.js';
import { latestCandles } from '../store/read/queries.js';
import { type Bar, latestBars, TIMEFRAMES, type Timeframe } from '../store/read/timeframes.js';
import { migrationsApplied } from '../store/schema/migrate.js';
import { stringFlag } from './args.js';
import { withIsoTimes, writeJsonLines } from './json.js';
import { formatTable, num } from './table.js';

const iso = (ms: number) => new Date(ms).toISOString();

const KINDS = ['1s', '100t', ...TIMEFRAMES] as const;
type Kind = (typeof KINDS)[number];

/** Every instant as ISO-8601 (the bar's `bucket` too), as the table shows them. */
const jsonRow = (c: Candle | Bar) =>
  c.kind === '1s'
    ? withIsoTimes(c, ['bucket', 'firstTradeAt', 'lastTradeAt'])
    : c.kind === '100t'
      ? withIsoTimes(c, ['startAt', 'endAt'])
      : withIsoTimes(c, ['bucket']);

function toRow(c: Candle | Bar): (string | number | null)[] {
  const common = [
    num(c.open),
    num(c.high),
    num(c.low),
    num(c.close),
    num(c.volume),
    c.tradeCount,
    num(c.vwap),
  ];
  return c.kind === '100t'
    ? [c.symbol, c.sessionDate, c.seq, ...common, iso(c.startAt), iso(c.endAt)]
    : [c.symbol, iso(c.bucket), ...common];
}

const TIME_HEADERS = ['symbol', 'bucket', 'open', 'high', 'low', 'close', 'volume', 'trades', 'vwap'];
const TICK_HEADERS = [
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
];

export function parseKind(raw: string | undefined, fallback: Kind): Kind {
  const kind = raw ?? fallback;
  if (!(KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError('--kind', `must be one of ${KINDS.join(', ')}, got "${kind}"`);
  }
  return kind as Kind;
}

export async function candlesCommand(config: Config, flags: Flags): Promise<number> {
  const kind = parseKind(stringFlag(flags, '--kind'), '1s');
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
    const q = { limit, ...(symbol ? { symbol } : {}) };
    const rows: (Candle | Bar)[] =
      kind === '1s' || kind === '100t'
        ? await latestCandles(db.pool, { kind, ...q })
        : await latestBars(db.pool, { timeframe: kind as Timeframe, ...q });
    if (flags['--json']) {
      writeJsonLines(rows.map(jsonRow));
    } else if (rows.length === 0) {
      process.stdout.write(`no ${kind} candles${symbol ? ` for ${symbol}` : ''} in ${db.target}\n`);
    } else {
      process.stdout.write(
        `${formatTable(kind === '100t' ? TICK_HEADERS : TIME_HEADERS, rows.map(toRow))}\n`,
      );
    }
    return 0;
  } finally {
    await db.close();
  }
}
