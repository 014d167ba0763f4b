// The arithmetic of partition periods and names: a name reads back to its period, months roll over years,
// and names that are not ours (the default, a converted table's leftover) are never taken for a period.
import { expect, it } from 'vitest';
import {
  nextPeriod,
  PARTITIONED,
  partitionName,
  periodOfName,
  periodStart,
  periodsBetween,
} from '../../../src/store/schema/partitionSpec.js';

const day = PARTITIONED.find((t) => t.table === 'candles_1s')!;
const month = PARTITIONED.find((t) => t.table === 'candles_100t')!;

it('names partitions by UTC day or month and reads the period back off the name', () => {
  const t = Date.UTC(2024, 1, 29, 23, 59, 59);
  expect(partitionName(day, periodStart('day', t))).toBe('candles_1s_p20240229');
  expect(partitionName(month, periodStart('month', t))).toBe('candles_100t_p202402');
  expect(periodOfName(day, 'candles_1s_p20240229')).toBe(Date.UTC(2024, 1, 29));
  expect(periodOfName(month, 'candles_100t_p202402')).toBe(Date.UTC(2024, 1, 1));
  for (const n of [
    'candles_1s_default',
    'candles_1s_unpartitioned',
    'candles_1s_p202402',
    'candles_1s_p20240230',
    'ticks_p20240229',
  ]) {
    expect(periodOfName(day, n)).toBeNull();
  }
  expect(periodOfName(month, 'candles_100t_p20240201')).toBeNull();
});

it('steps days and months, across a year end', () => {
  expect(nextPeriod('month', Date.UTC(2024, 11, 1))).toBe(Date.UTC(2025, 0, 1));
  expect(periodsBetween('day', Date.UTC(2024, 11, 30, 12), Date.UTC(2025, 0, 1, 1))).toEqual([
    Date.UTC(2024, 11, 30),
    Date.UTC(2024, 11, 31),
    Date.UTC(2025, 0, 1),
  ]);
  expect(periodsBetween('month', Date.UTC(2024, 10, 15), Date.UTC(2025, 0, 1))).toHaveLength(3);
});
