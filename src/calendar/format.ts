// Text in and out for the CLI: `tick-collector sessions --from … --to …`.
import { checkYear, parseDay, toYmd } from './days.js';
import type { Session } from './sessions.js';

/** `YYYY-MM-DD<TAB>open ISO UTC<TAB>close ISO UTC`, e.g. `2024-07-03\t2024-07-03T13:30:00.000Z\t2024-07-03T17:00:00.000Z`. */
export function formatSessionLine(s: Session): string {
  return `${s.date}\t${new Date(s.open).toISOString()}\t${new Date(s.close).toISOString()}`;
}

/** Validates a YYYY-MM-DD argument (a real date in the supported years); returns it unchanged. */
export function parseDateArg(s: string): string {
  const trimmed = s.trim();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) {
    throw new Error(`"${s}" is not a date: expected YYYY-MM-DD, e.g. 2025-01-21`);
  }
  const day = parseDay(trimmed);
  if (day === null) throw new Error(`"${s}" is not a real calendar date`);
  checkYear(toYmd(day).year, `"${s}"`);
  return trimmed;
}
