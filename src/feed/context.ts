// What every connect loop and attempt of one feed shares, built once by runFeed and passed down whole.
import type { FeedGap, Trade } from '../aggregate/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import type { RateLimitedLog } from '../log/rateLimit.js';
import type { Pacer } from './pacer.js';
import type { FeedStats } from './stats.js';
import type { FeedTimings } from './timings.js';

export interface FeedContext {
  /** Full URL including the token: never logged. */
  url: string;
  timings: FeedTimings;
  /** Epoch ms at which to stop; null = until the signal. */
  deadline: number | null;
  /** The feed's stop signal (abort or deadline). */
  signal: AbortSignal;
  clock: Clock;
  log: Logger;
  limited: RateLimitedLog;
  stats: FeedStats;
  /** The feed-wide arrival counter: the next trade's seq. */
  seq: { next: number };
  /** Rejection texts already logged by any chunk of this feed: each is said once. */
  rejectionsLogged: Set<string>;
  pacer: Pacer;
  onTrade: (t: Trade) => void;
  onGap: (g: FeedGap) => void;
  /** Data staleness is judged only while this is true (regular session). */
  inSession: (now: number) => boolean;
  random: () => number;
}

export type { FeedGap } from '../aggregate/types.js';
