// Is the market open at an instant, and if not, why, and when does it open next.
import { isWeekend, toYmd } from './days.js';
import { closureOn } from './holidays.js';
import { etDay, nextSession, type Session, sessionOnDay } from './sessions.js';

/**
 * Why the market is open or closed at an instant:
 * - `open`: a session is in progress;
 * - `weekend`: Saturday or Sunday in New York;
 * - `holiday`: a weekday holiday or special closure (its name in `holiday`);
 * - `before-open`: a trading day, before its open;
 * - `after-close`: a trading day, after its regular 16:00 close;
 * - `early-close`: a trading day that closed early (13:00 or an irregular time), after that close.
 */
export type MarketReason = 'open' | 'weekend' | 'holiday' | 'before-open' | 'after-close' | 'early-close';

export interface MarketStatus {
  open: boolean;
  reason: MarketReason;
  /** The holiday's name, when reason is `holiday`. */
  holiday?: string;
  /** The session in progress, or today's session (ET date) if there is one. */
  session: Session | null;
  /** The close of the session in progress; null when closed. */
  currentClose: number | null;
  /** The open of the next session to start after `instant` (always > instant). */
  nextOpen: number;
  /** The close of the session in progress, or else of the next session. */
  nextClose: number;
}

export function statusAt(instant: number): MarketStatus {
  const day = etDay(instant);
  const today = sessionOnDay(day);
  const next = nextSession(instant);
  if (today && today.open <= instant && instant < today.close) {
    return {
      open: true,
      reason: 'open',
      session: today,
      currentClose: today.close,
      nextOpen: next.open,
      nextClose: today.close,
    };
  }
  const closed = {
    open: false,
    session: today,
    currentClose: null,
    nextOpen: next.open,
    nextClose: next.close,
  };
  if (today) {
    if (instant < today.open) return { ...closed, reason: 'before-open' };
    return { ...closed, reason: today.earlyClose ? 'early-close' : 'after-close' };
  }
  if (isWeekend(day)) return { ...closed, reason: 'weekend' };
  const name = closureOn(day, toYmd(day).year);
  return { ...closed, reason: 'holiday', ...(name === undefined ? {} : { holiday: name }) };
}
