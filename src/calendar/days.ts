// Civil-date arithmetic on "day numbers" (days since 1970-01-01), so holiday rules are integer maths.
// No time zone, no clock. `new Date(Date.UTC(...))` is used only as a proleptic-Gregorian converter.

/** The years this calendar vouches for. Outside them we throw rather than guess. */
export const FIRST_YEAR = 1990;
export const LAST_YEAR = 2035;

const MS_PER_DAY = 86_400_000;

export const SUNDAY = 0;
export const MONDAY = 1;
export const TUESDAY = 2;
export const WEDNESDAY = 3;
export const THURSDAY = 4;
export const FRIDAY = 5;
export const SATURDAY = 6;

export function dayNumber(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / MS_PER_DAY);
}

export function weekday(day: number): number {
  // 1970-01-01 was a Thursday.
  return (((day + THURSDAY) % 7) + 7) % 7;
}

export function isWeekend(day: number): boolean {
  const w = weekday(day);
  return w === SATURDAY || w === SUNDAY;
}

export interface Ymd {
  year: number;
  month: number;
  day: number;
}

export function toYmd(day: number): Ymd {
  const d = new Date(day * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function formatDay(day: number): string {
  const { year, month, day: dd } = toYmd(day);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(dd).padStart(2, '0')}`;
}

/** Strict YYYY-MM-DD → day number, or null when it is not a real date. */
export function parseDay(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const dd = Number(m[3]);
  if (month < 1 || month > 12 || dd < 1 || dd > 31) return null;
  const n = dayNumber(year, month, dd);
  const back = toYmd(n);
  return back.year === year && back.month === month && back.day === dd ? n : null;
}

/** The nth (1-based) given weekday of a month, e.g. the 3rd Monday of January. */
export function nthWeekday(year: number, month: number, wd: number, n: number): number {
  const first = dayNumber(year, month, 1);
  return first + ((wd - weekday(first) + 7) % 7) + (n - 1) * 7;
}

/** The last given weekday of a month, e.g. the last Monday of May. */
export function lastWeekday(year: number, month: number, wd: number): number {
  const last = dayNumber(year, month + 1, 1) - 1;
  return last - ((weekday(last) - wd + 7) % 7);
}

/** Easter Sunday (Gregorian), by the anonymous "Meeus/Jones/Butcher" algorithm. */
export function easterSunday(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayNumber(year, month, day);
}

export function checkYear(year: number, what: string): void {
  if (!Number.isInteger(year) || year < FIRST_YEAR || year > LAST_YEAR) {
    throw new RangeError(
      `${what}: year ${year} is outside the NYSE calendar's supported range ${FIRST_YEAR}–${LAST_YEAR}`,
    );
  }
}
