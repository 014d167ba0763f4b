// Whether the tape may replace what is stored (pure), and the row counts a replacement changes.
// The tape replaces live rows only where it is at least as complete as what was collected. A second whose
// rebuilt candle counts fewer prints than the stored one, a minute (candles_1m) whose tape seconds add up to
// fewer trades than its stored bar (its seconds may have been dropped by retention: the bar is all that is
// left to compare with), or a 100-tick series from the cut that holds fewer trades than the stored one means
// the tape is incomplete (not loaded yet, or a vendor glitch): nothing of that (symbol, date) is replaced.
// Also the row counts a replacement changes, per table.
import type { SecondCandle, TickCandle } from '../aggregate/types.js';
import type { StoredRows } from './writeTape.js';

export interface TableCounts {
  /** Stored rows the tape has too (rewritten). */
  replaced: number;
  /** Stored rows the tape does not have (removed). */
  deleted: number;
  /** Rows only the tape has (added). */
  inserted: number;
}

export type TableName = 'candles_1s' | 'candles_100t' | 'candles_1m';
export type ReplaceCounts = Record<TableName, TableCounts>;

export function zeroCounts(): ReplaceCounts {
  return {
    candles_1s: { replaced: 0, deleted: 0, inserted: 0 },
    candles_100t: { replaced: 0, deleted: 0, inserted: 0 },
    candles_1m: { replaced: 0, deleted: 0, inserted: 0 },
  };
}

export function addCounts(into: ReplaceCounts, c: ReplaceCounts): ReplaceCounts {
  for (const t of Object.keys(into) as TableName[]) {
    into[t].replaced += c[t].replaced;
    into[t].deleted += c[t].deleted;
    into[t].inserted += c[t].inserted;
  }
  return into;
}

export interface Verdict {
  /** Null: the tape is at least as complete as every stored row it would replace. */
  shortfall: string | null;
  /** Stored rows in the windows and the series (0: nothing was collected there). */
  storedRows: number;
  counts: ReplaceCounts;
}

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

function tableCounts(stored: Map<number, number>, tape: Map<number, number>): TableCounts {
  let replaced = 0;
  for (const k of stored.keys()) if (tape.has(k)) replaced++;
  return { replaced, deleted: stored.size - replaced, inserted: tape.size - replaced };
}

/**
 * Compares the rebuilt candles with the stored ones they would replace. `seconds` are every tape candle of
 * the 1-second windows (whole minutes), `ticks` the series from the cut.
 */
export function judge(
  stored: StoredRows,
  seconds: readonly SecondCandle[],
  ticks: readonly TickCandle[],
): Verdict {
  const tapeSec = new Map<number, number>();
  const tapeMin = new Map<number, number>();
  for (const c of seconds) {
    tapeSec.set(c.bucket, c.tradeCount);
    const m = Math.floor(c.bucket / MINUTE) * MINUTE;
    tapeMin.set(m, (tapeMin.get(m) ?? 0) + c.tradeCount);
  }
  const tapeTicks = new Map<number, number>();
  for (const c of ticks) tapeTicks.set(c.seq, c.tradeCount);

  const problems: string[] = [];
  const shortSeconds = [...stored.seconds].filter(([b, n]) => (tapeSec.get(b) ?? 0) < n);
  if (shortSeconds.length > 0) {
    const [b, n] = shortSeconds.sort((x, y) => x[0] - y[0])[0]!;
    problems.push(
      `${shortSeconds.length} second(s) where the tape has fewer prints than the stored candle (first ${iso(b)}: ${tapeSec.get(b) ?? 0} < ${n})`,
    );
  }
  const shortMinutes = [...stored.minutes].filter(([m, n]) => (tapeMin.get(m) ?? 0) < n);
  if (shortMinutes.length > 0) {
    const [m, n] = shortMinutes.sort((x, y) => x[0] - y[0])[0]!;
    problems.push(
      `${shortMinutes.length} minute(s) where the tape has fewer trades than the stored 1-minute bar (first ${iso(m)}: ${tapeMin.get(m) ?? 0} < ${n})`,
    );
  }
  let storedSeries = 0;
  for (const n of stored.ticks.values()) storedSeries += n;
  let tapeSeries = 0;
  for (const n of tapeTicks.values()) tapeSeries += n;
  if (tapeSeries < storedSeries) {
    const from = Math.min(...stored.ticks.keys());
    problems.push(
      `the 100-tick series from seq ${from} would hold ${tapeSeries} trades, ${storedSeries} are stored`,
    );
  }
  return {
    shortfall: problems.length > 0 ? problems.join('; ') : null,
    storedRows: stored.seconds.size + stored.minutes.size + stored.ticks.size,
    counts: {
      candles_1s: tableCounts(stored.seconds, tapeSec),
      candles_100t: tableCounts(stored.ticks, tapeTicks),
      candles_1m: tableCounts(stored.minutes, tapeMin),
    },
  };
}

/** "candles_1s: replace 3, delete 1, insert 2; …" (tables with nothing to do left out). */
export function describeCounts(c: ReplaceCounts, verbs = ['replace', 'delete', 'insert']): string {
  const parts: string[] = [];
  for (const t of Object.keys(c) as TableName[]) {
    const x = c[t];
    if (x.replaced + x.deleted + x.inserted === 0) continue;
    parts.push(`${t}: ${verbs[0]} ${x.replaced}, ${verbs[1]} ${x.deleted}, ${verbs[2]} ${x.inserted}`);
  }
  return parts.length > 0 ? parts.join('; ') : 'no rows';
}
