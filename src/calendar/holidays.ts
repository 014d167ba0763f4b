// Full-day NYSE closures on weekdays: the recurring holidays and the special closures.
// The recurring holidays by NYSE Rule 7.2 (with weekend observance) and the special closures the exchange
// declared. Sources: NYSE's published holiday schedules (2023–2027), NYSE's historical closings list as
// encoded by pandas_market_calendars (holidays/nyse.py) and exchange_calendars (exchange_calendar_xnys.py);
// the two agree on every full-day closure since 1990.
import {
  checkYear,
  dayNumber,
  easterSunday,
  formatDay,
  lastWeekday,
  MONDAY,
  nthWeekday,
  parseDay,
  SATURDAY,
  SUNDAY,
  THURSDAY,
  weekday,
} from './days.js';

/** Closures declared for a single occasion (1990 onwards). */
const SPECIAL_CLOSURES: ReadonlyArray<readonly [string, string]> = [
  ['1994-04-27', 'National Day of Mourning for former President Richard Nixon'],
  ['2001-09-11', 'September 11 attacks'],
  ['2001-09-12', 'September 11 attacks'],
  ['2001-09-13', 'September 11 attacks'],
  ['2001-09-14', 'September 11 attacks'],
  ['2004-06-11', 'National Day of Mourning for former President Ronald Reagan'],
  ['2007-01-02', 'National Day of Mourning for former President Gerald Ford'],
  ['2012-10-29', 'Hurricane Sandy'],
  ['2012-10-30', 'Hurricane Sandy'],
  ['2018-12-05', 'National Day of Mourning for former President George H. W. Bush'],
  ['2025-01-09', 'National Day of Mourning for former President Jimmy Carter'],
];

const specialByYear = new Map<number, Array<[number, string]>>();
for (const [date, name] of SPECIAL_CLOSURES) {
  const day = parseDay(date);
  if (day === null) throw new Error(`bad special closure date ${date}`);
  const year = Number(date.slice(0, 4));
  const list = specialByYear.get(year) ?? [];
  list.push([day, name]);
  specialByYear.set(year, list);
}

/** Saturday → the Friday before, Sunday → the Monday after (NYSE Rule 7.2). */
function nearestWeekday(day: number): number {
  const w = weekday(day);
  if (w === SATURDAY) return day - 1;
  if (w === SUNDAY) return day + 1;
  return day;
}

function computeYear(year: number): Map<number, string> {
  const out = new Map<number, string>();
  const add = (day: number, name: string) => out.set(day, name);

  // New Year's Day: Sunday → Monday; a Saturday New Year is not observed on the Friday before, because
  // that Friday is the end of the month, quarter and year (Rule 7.2's exception).
  const ny = dayNumber(year, 1, 1);
  if (weekday(ny) === SUNDAY) add(ny + 1, "New Year's Day");
  else if (weekday(ny) !== SATURDAY) add(ny, "New Year's Day");

  if (year >= 1998) add(nthWeekday(year, 1, MONDAY, 3), 'Martin Luther King Jr. Day');
  add(nthWeekday(year, 2, MONDAY, 3), "Presidents' Day (Washington's Birthday)");
  add(easterSunday(year) - 2, 'Good Friday');
  add(lastWeekday(year, 5, MONDAY), 'Memorial Day');
  if (year >= 2022) add(nearestWeekday(dayNumber(year, 6, 19)), 'Juneteenth National Independence Day');
  add(nearestWeekday(dayNumber(year, 7, 4)), 'Independence Day');
  add(nthWeekday(year, 9, MONDAY, 1), 'Labor Day');
  add(nthWeekday(year, 11, THURSDAY, 4), 'Thanksgiving Day');
  add(nearestWeekday(dayNumber(year, 12, 25)), 'Christmas Day');

  for (const [day, name] of specialByYear.get(year) ?? []) add(day, name);
  return out;
}

const cache = new Map<number, ReadonlyMap<number, string>>();

/** Weekday closures of one year, keyed by day number. */
export function closuresOfYear(year: number): ReadonlyMap<number, string> {
  checkYear(year, 'closuresOfYear');
  let m = cache.get(year);
  if (!m) {
    m = computeYear(year);
    cache.set(year, m);
  }
  return m;
}

/** The holiday or special closure on a day number, if the exchange is closed for one. */
export function closureOn(day: number, year: number): string | undefined {
  return closuresOfYear(year).get(day);
}

/** Every weekday closure of a year as `[YYYY-MM-DD, name]`, in date order. */
export function holidaysOfYear(year: number): Array<[string, string]> {
  return [...closuresOfYear(year)].sort((a, b) => a[0] - b[0]).map(([day, name]) => [formatDay(day), name]);
}
