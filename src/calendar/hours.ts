// Trading hours of a trading day, as minutes after midnight America/New_York.
// Regular 09:30–16:00. Scheduled early closes: 14:00 until 1992, 13:00 from 1993 (NYSE's own change).
// Irregular hours are NYSE's recorded late openings and early closes since 1990 (weather, outages,
// moments of silence), as listed in NYSE's historical closings document and encoded by
// pandas_market_calendars; intraday halts (e.g. 2015-07-08) are not session changes and are not modelled.
import { FRIDAY, MONDAY, parseDay, THURSDAY, TUESDAY, toYmd, WEDNESDAY, weekday } from './days.js';

export interface Hours {
  /** Minutes after midnight ET. */
  open: number;
  close: number;
}

const hm = (h: number, m = 0) => h * 60 + m;
export const REGULAR_OPEN = hm(9, 30);
export const REGULAR_CLOSE = hm(16);

/** One-off hours: [date, open, close]. */
const IRREGULAR: ReadonlyArray<readonly [string, number, number]> = [
  ['1990-12-24', REGULAR_OPEN, hm(14)], // Christmas Eve, 2 pm era
  ['1990-12-27', hm(11), REGULAR_CLOSE], // Con Edison transformer explosion under SIAC (LA Times, 1990-12-27)
  ['1991-01-17', hm(9, 31), REGULAR_CLOSE], // moment of silence, troops in the Persian Gulf
  ['1991-02-25', hm(9, 31), REGULAR_CLOSE], // moment of silence, troops in the Persian Gulf
  ['1991-12-24', REGULAR_OPEN, hm(14)], // Christmas Eve, 2 pm era
  ['1992-11-27', REGULAR_OPEN, hm(14)], // day after Thanksgiving, first year observed, 2 pm era
  ['1992-12-24', REGULAR_OPEN, hm(14)], // Christmas Eve, 2 pm era
  ['1994-02-11', REGULAR_OPEN, hm(14, 30)], // snowstorm
  ['1995-12-18', hm(10, 30), REGULAR_CLOSE], // computer system trouble
  ['1996-01-08', hm(11), hm(14)], // blizzard: late open and early close
  ['1997-10-27', REGULAR_OPEN, hm(15, 30)], // circuit breaker, market closed for the day at 15:30
  ['1997-12-26', REGULAR_OPEN, hm(13)], // Friday after Christmas
  // NYSE's board approved a 1 pm close for Y2K (NYSE, 1999-06-04). pandas_market_calendars marks it
  // disputed; exchange_calendars has it. We follow the board decision.
  ['1999-12-31', REGULAR_OPEN, hm(13)],
  ['2001-09-17', hm(9, 33), REGULAR_CLOSE], // reopening after 9/11, two minutes of silence
  ['2001-10-08', hm(9, 31), REGULAR_CLOSE], // moment of silence, Operation Enduring Freedom
  ['2002-09-11', hm(12), REGULAR_CLOSE], // first anniversary of 9/11
  ['2003-03-20', hm(9, 32), REGULAR_CLOSE], // moment of silence, Operation Iraqi Freedom
  ['2003-12-26', REGULAR_OPEN, hm(13)], // Friday after Christmas
  ['2004-06-07', hm(9, 32), REGULAR_CLOSE], // moment of silence, President Reagan
  ['2005-06-01', REGULAR_OPEN, hm(15, 56)], // systems communication problem
  ['2006-12-27', hm(9, 32), REGULAR_CLOSE], // moment of silence, President Ford
];

const irregular = new Map<number, Hours>();
for (const [date, open, close] of IRREGULAR) {
  const day = parseDay(date);
  if (day === null) throw new Error(`bad irregular-hours date ${date}`);
  irregular.set(day, { open, close });
}

/** True when NYSE's scheduled 1 pm close applies (from 1993; earlier ones are in IRREGULAR at 2 pm). */
function scheduledEarlyClose(day: number): boolean {
  const { year, month, day: dd } = toYmd(day);
  if (year < 1993) return false;
  const wd = weekday(day);
  // Day after Thanksgiving (the 4th Thursday is between the 22nd and 28th).
  if (month === 11 && wd === FRIDAY && dd >= 23 && dd <= 29) return true;
  // Christmas Eve, Monday–Thursday (on a Friday it is the observed Christmas holiday).
  if (month === 12 && dd === 24 && wd >= MONDAY && wd <= THURSDAY) return true;
  if (month === 7) {
    // July 3 on a Monday, Tuesday or Thursday, from 1995.
    if (dd === 3 && year >= 1995 && (wd === MONDAY || wd === TUESDAY || wd === THURSDAY)) return true;
    // July 4 on a Thursday: the Friday after closed early until 2012; from 2013 the Wednesday before.
    if (dd === 5 && wd === FRIDAY && year >= 1996 && year <= 2012) return true;
    if (dd === 3 && wd === WEDNESDAY && year >= 2013) return true;
  }
  return false;
}

/** Hours of a day assumed to be a trading day. */
export function hoursOn(day: number): Hours {
  const special = irregular.get(day);
  if (special) return special;
  if (scheduledEarlyClose(day)) return { open: REGULAR_OPEN, close: hm(13) };
  return { open: REGULAR_OPEN, close: REGULAR_CLOSE };
}
