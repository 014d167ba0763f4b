// The partitioning plan (PARTITIONED) and the pure arithmetic of partition periods and names.
// Which tables are partitioned, by what and how finely (docs/ARCHITECTURE.md, "Partitions and retention"),
// and the pure arithmetic of their periods: a partition is one UTC day or month, named <table>_pYYYYMMDD or
// <table>_pYYYYMM, so its range can be read back off its name.

export type PeriodUnit = 'day' | 'month';

export interface PartitionedTable {
  table: 'candles_1s' | 'candles_100t' | 'ticks';
  /** The range key. */
  column: string;
  columnType: 'timestamptz' | 'date';
  unit: PeriodUnit;
  /** Indexes the queries need beyond the table's own keys (EXPLAIN-tested in test/store/explain.test.ts). */
  indexes: { name: string; columns: string }[];
}

export const PARTITIONED: readonly PartitionedTable[] = [
  {
    table: 'candles_1s',
    column: 'bucket',
    columnType: 'timestamptz',
    unit: 'day',
    // "The latest candles across symbols" (ORDER BY bucket DESC); a symbol's range is the primary key.
    indexes: [{ name: 'candles_1s_bucket', columns: 'bucket' }],
  },
  {
    table: 'candles_100t',
    column: 'session_date',
    columnType: 'date',
    // ~1/30 of candles_1s's rows per day at 100 trades a candle: a month of them is about a day of seconds.
    unit: 'month',
    indexes: [{ name: 'candles_100t_end_at', columns: 'end_at' }],
  },
  { table: 'ticks', column: 'ts', columnType: 'timestamptz', unit: 'day', indexes: [] },
];

const DAY = 86_400_000;

/** The start (UTC epoch ms) of the period holding `ms`. */
export function periodStart(unit: PeriodUnit, ms: number): number {
  const d = new Date(ms);
  return unit === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** The start of the period after the one starting at `start`. */
export function nextPeriod(unit: PeriodUnit, start: number): number {
  if (unit === 'day') return start + DAY;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Every period start from the one holding `fromMs` to the one holding `toMs`, inclusive. */
export function periodsBetween(unit: PeriodUnit, fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  for (let p = periodStart(unit, fromMs); p <= toMs; p = nextPeriod(unit, p)) out.push(p);
  return out;
}

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function partitionName(t: PartitionedTable, start: number): string {
  const digits = ymd(start).replace(/-/g, '');
  return `${t.table}_p${t.unit === 'day' ? digits : digits.slice(0, 6)}`;
}

export const defaultPartitionName = (t: PartitionedTable): string => `${t.table}_default`;

/** The period start a partition's name stands for, or null when the name is not one of ours. */
export function periodOfName(t: PartitionedTable, name: string): number | null {
  const m = new RegExp(`^${t.table}_p(\\d{4})(\\d{2})(\\d{2})?$`).exec(name);
  if (!m || (t.unit === 'day') !== (m[3] !== undefined)) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, m[3] ? Number(m[3]) : 1);
  return partitionName(t, ms) === name ? ms : null;
}

/** A bound literal of the key's type. */
export function boundLiteral(t: PartitionedTable, ms: number): string {
  return t.columnType === 'date' ? `'${ymd(ms)}'` : `'${new Date(ms).toISOString()}'`;
}
