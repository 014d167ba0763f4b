// The America/New_York calendar day of an instant, cheaply (EtDayCache remembers the current day).
// Luxon runs only when an instant falls outside the cached day, i.e. about once per day, not once per trade.
import { DateTime } from 'luxon';

import { NYSE_ZONE as ZONE } from '../calendar/index.js';

export interface EtDay {
  /** YYYY-MM-DD */
  date: string;
  /** Midnight ET that starts the day, epoch ms. */
  start: number;
  /** Midnight ET that ends it (23 or 25 hours later on a DST change), epoch ms. */
  end: number;
}

/** The ET day holding `ts` (epoch ms). */
export function etDayOf(ts: number): EtDay {
  const day = DateTime.fromMillis(ts, { zone: ZONE }).startOf('day');
  return { date: day.toISODate()!, start: day.toMillis(), end: day.plus({ days: 1 }).toMillis() };
}

/** The ET day named `date` (YYYY-MM-DD); throws on a malformed date. */
export function etDayNamed(date: string): EtDay {
  const day = DateTime.fromISO(date, { zone: ZONE });
  if (!day.isValid || day.toISODate() !== date) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  return { date, start: day.toMillis(), end: day.plus({ days: 1 }).toMillis() };
}

/** Remembers the last day looked up. */
export class EtDayCache {
  private last: EtDay = { date: '', start: 0, end: 0 };
  /** Luxon computations so far (a test can check the cache works). */
  misses = 0;

  dayOf(ts: number): EtDay {
    const d = this.last;
    if (ts >= d.start && ts < d.end) return d;
    this.misses++;
    this.last = etDayOf(ts);
    return this.last;
  }
}
