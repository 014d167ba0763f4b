// A feed's health after each poll: ok → failing → (after a day) dead → ok again.
// Pure transitions on the feed's stats; the poller decides what to log from what they return.
import { DEAD_AFTER_MS, delayAfterFailure, delayAfterSuccess, type Random } from './schedule.js';
import { feedLabel, type NewsFeedStats } from './stats.js';

export function newNewsFeedStats(url: string, now: number): NewsFeedStats {
  let host: string;
  try {
    // host includes a non-default port: two ports are two servers as far as politeness goes.
    host = new URL(url).host;
  } catch {
    host = `invalid:${url}`;
  }
  return {
    url,
    host,
    label: feedLabel(url),
    state: 'pending',
    lastOk: null,
    lastError: null,
    consecutiveFailures: 0,
    failingSince: null,
    nextPollAt: now,
    polls: 0,
    notModified: 0,
    itemsStored: 0,
    itemsSkipped: 0,
  };
}

/** Returns how long the feed had been failing when it was dead, else null. */
export function markOk(s: NewsFeedStats, now: number, intervalMs: number, random: Random): number | null {
  const revived = s.state === 'dead' ? now - (s.failingSince ?? now) : null;
  s.state = 'ok';
  s.lastOk = now;
  s.lastError = null;
  s.consecutiveFailures = 0;
  s.failingSince = null;
  s.nextPollAt = now + delayAfterSuccess(intervalMs, random);
  return revived;
}

/** Returns true when this failure made the feed dead (the one moment worth a log line). */
export function markFailed(
  s: NewsFeedStats,
  now: number,
  reason: string,
  retryAfterMs: number | null,
  intervalMs: number,
  random: Random,
): boolean {
  s.consecutiveFailures++;
  s.failingSince ??= now;
  s.lastError = reason;
  const becameDead = s.state !== 'dead' && now - s.failingSince >= DEAD_AFTER_MS;
  if (becameDead) s.state = 'dead';
  else if (s.state !== 'dead') s.state = 'failing';
  s.nextPollAt =
    now + delayAfterFailure(intervalMs, s.consecutiveFailures, s.state === 'dead', retryAfterMs, random);
  return becameDead;
}
