// The one candle row shape: each kind's columns under the database's names, with their types.
// In table order.
// `export` writes them (Parquet's schema; CSV and JSON lines render from it) and the publisher's payloads
// carry them (with `revision`), so a researcher's file, a strategy's message and a SQL query name a field
// the same way. A new candle column is added here once.
import { TIMEFRAMES, type Timeframe } from './timeframes.js';

export const CANDLE_KINDS = ['1s', '100t', ...TIMEFRAMES] as const;
export type CandleKindName = (typeof CANDLE_KINDS)[number];

/** How a column is typed in every format. */
export type ColumnType = 'string' | 'time' | 'date' | 'double' | 'int';
export interface Column {
  name: string;
  type: ColumnType;
  nullable: boolean;
}

const col = (name: string, type: ColumnType, nullable = false): Column => ({ name, type, nullable });
const PRICES = ['open', 'high', 'low', 'close'].map((n) => col(n, 'double', true));
const COMMON = [...PRICES, col('volume', 'double'), col('trade_count', 'int'), col('vwap', 'double', true)];

/** A 1-second candle, and a row of candles_1m (its own table has the same columns). */
export const SECOND_COLUMNS: readonly Column[] = [
  col('symbol', 'string'),
  col('bucket', 'time'),
  ...COMMON,
  col('first_trade_at', 'time'),
  col('last_trade_at', 'time'),
  col('source', 'string'),
];

export const COLUMNS: Record<CandleKindName, readonly Column[]> = {
  '1s': SECOND_COLUMNS,
  '100t': [
    col('symbol', 'string'),
    col('session_date', 'date'),
    col('seq', 'int'),
    ...COMMON,
    col('start_at', 'time'),
    col('end_at', 'time'),
    col('source', 'string'),
  ],
  // Bars over candles_1m (5m/1h/1d are aggregated at read time): the candle's own fields.
  ...(Object.fromEntries(
    TIMEFRAMES.map((tf) => [tf, [col('symbol', 'string'), col('bucket', 'time'), ...COMMON]]),
  ) as Record<Timeframe, Column[]>),
};
