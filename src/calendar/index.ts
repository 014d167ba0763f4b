// The NYSE calendar: pure (luxon only, no I/O, never reads the clock). Years 1990–2035.
export { FIRST_YEAR, LAST_YEAR } from './days.js';
export { formatSessionLine, parseDateArg } from './format.js';
export { holidaysOfYear } from './holidays.js';
export {
  etDate,
  holidayName,
  NYSE_ZONE,
  nextSession,
  type Session,
  sessionOn,
  sessions,
  withinSession,
} from './sessions.js';
export { type MarketReason, type MarketStatus, statusAt } from './status.js';
