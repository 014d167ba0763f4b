// Trading sessions as instants (epoch ms), and the America/New_York day and date of an instant.
// A trading day's ET wall-clock hours converted to epoch ms with luxon, so every DST change (and the 2007
// change of DST rules) is handled by the tz database.
import { IANAZone } from 'luxon';
import { checkYear, FIRST_YEAR, formatDay, isWeekend, LAST_YEAR, parseDay, toYmd } from './days.js';
import { closureOn } from './holidays.js';
import { hoursOn, REGULAR_CLOSE } from './hours.js';

export const NYSE_ZONE = 'America/New_York';

export interface Session {
  /** The session's date in America/New_York, YYYY-MM-DD. */
  date: string;
  /** Epoch ms. */
  open: number;
  close: number;
  /** Closes before 16:00 ET (scheduled early close or an irregular one). */
  earlyClose: boolean;
}

const zone = IANAZone.create(NYSE_ZONE);

/** ET wall time on a day → epoch ms. The offset is read at the UTC guess; no DST change happens between
 * 03:00 and 24:00 ET, so for trading hours the guess's offset is the offset of the answer. */
function etInstant(day: number, minutes: number): number {
  const wall = day * 86_400_000 + minutes * 60_000;
  return wall - zone.offset(wall) * 60_000;
}

const sessionCache = new Map<number, Session | null>();

/** The session on a day number, or null (weekend, holiday, special closure). Year must be in range. */
export function sessionOnDay(day: number): Session | null {
  const cached = sessionCache.get(day);
  if (cached !== undefined) return cached;
  const { year } = toYmd(day);
  checkYear(year, 'sessionOn');
  let s: Session | null = null;
  if (!isWeekend(day) && closureOn(day, year) === undefined) {
    const h = hoursOn(day);
    s = {
      date: formatDay(day),
      open: etInstant(day, h.open),
      close: etInstant(day, h.close),
      earlyClose: h.close < REGULAR_CLOSE,
    };
  }
  sessionCache.set(day, s);
  return s;
}

function dayArg(date: string, what: string): number {
  const day = parseDay(date);
  if (day === null) throw new Error(`${what}: "${date}" is not a real date in YYYY-MM-DD form`);
  return day;
}

/** The session on an ET date (YYYY-MM-DD), or null when the exchange does not trade that day. */
export function sessionOn(date: string): Session | null {
  return sessionOnDay(dayArg(date, 'sessionOn'));
}

/** Every session from `fromDate` to `toDate`, both inclusive, in order. */
export function sessions(fromDate: string, toDate: string): Session[] {
  const from = dayArg(fromDate, 'sessions');
  const to = dayArg(toDate, 'sessions');
  checkYear(toYmd(from).year, 'sessions');
  checkYear(toYmd(to).year, 'sessions');
  const out: Session[] = [];
  for (let d = from; d <= to; d++) {
    const s = sessionOnDay(d);
    if (s) out.push(s);
  }
  return out;
}

/** The ET day number of an instant. */
export function etDay(instant: number): number {
  if (!Number.isFinite(instant)) throw new RangeError(`not a valid instant: ${instant}`);
  const day = Math.floor((instant + zone.offset(instant) * 60_000) / 86_400_000);
  checkYear(toYmd(day).year, 'NYSE calendar');
  return day;
}

/** Whether a trade timed `ts` belongs to the session: from the open (inclusive) to the close (exclusive). */
export function withinSession(session: Session, ts: number): boolean {
  return ts >= session.open && ts < session.close;
}

/** The America/New_York date (YYYY-MM-DD) of an instant: the session date of a trade at that time. */
export function etDate(instant: number): string {
  return formatDay(etDay(instant));
}

/** The first session that opens strictly after `instant` (throws past the end of the supported range). */
export function nextSession(instant: number): Session {
  for (let d = etDay(instant); ; d++) {
    if (toYmd(d).year > LAST_YEAR) {
      throw new RangeError(
        `no NYSE session after ${new Date(instant).toISOString()} within ${FIRST_YEAR}–${LAST_YEAR}`,
      );
    }
    const s = sessionOnDay(d);
    if (s && s.open > instant) return s;
  }
}

/** The name of the holiday or special closure on an ET date, if any (weekend days have none). */
export function holidayName(date: string): string | undefined {
  const day = dayArg(date, 'holidayName');
  const { year } = toYmd(day);
  checkYear(year, 'holidayName');
  return closureOn(day, year);
}
