// Full-jitter exponential backoff (Backoff) and every retrying loop's delays in one table (RETRY_DELAYS).
// The one backoff of the house, and the delay of every retrying loop in one table (graphile-worker keeps
// its retryable codes and delays in one place the same way). Full-jitter exponential (AWS "Exponential
// Backoff and Jitter"): delay = random × min(max, base·2^n); jitter spreads many collectors (and our own
// chunk sockets) so they do not retry in lock-step. A loop resets it only after a stable stretch, never on
// the first success of a flapping link, so a server that accepts and drops at once still sees growing delays.
import { SETTINGS } from '../config/settings.js';

export interface BackoffPolicy {
  /** First delay (cap of the first draw with full jitter). */
  baseMs: number;
  /** Largest delay. */
  maxMs: number;
  /** full: uniform in [0, cap); none: exactly the cap (a single loop, nothing to spread). */
  jitter: 'full' | 'none';
}

/**
 * Every loop that retries, by the error class it waits out. Settings override base/max where they exist.
 * (News polling is a schedule, not a retry: news/schedule.ts backs off from the poll interval and honours
 * Retry-After.)
 */
export const RETRY_DELAYS = {
  /** Feed socket dropped or could not connect (RECONNECT_BASE_MS / RECONNECT_MAX_MS). */
  'feed.connect': {
    baseMs: SETTINGS.reconnectBaseMs.default,
    maxMs: SETTINGS.reconnectMaxMs.default,
    jitter: 'full',
  },
  /** The feed refused the token or the symbols (AUTH_FAILURE_BACKOFF_MS, waited as is): asking often only annoys. */
  'feed.rejected': {
    baseMs: SETTINGS.authFailureBackoffMs.default,
    maxMs: SETTINGS.authFailureBackoffMs.default,
    jitter: 'none',
  },
  /** A batch write failed with a retryable error (connection, timeout, serialization). */
  'store.write': { baseMs: 100, maxMs: 5_000, jitter: 'full' },
  /** The database is unreachable at start-up: wait for it rather than crash-loop. */
  'store.open': { baseMs: 1_000, maxMs: 30_000, jitter: 'full' },
  /** The stored 100-tick candles cannot be read yet at a session's start (the feed runs meanwhile). */
  'session.resume': { baseMs: 500, maxMs: 10_000, jitter: 'full' },
  /** The tick API answered 5xx (a one-second window) or failed to connect: ask again. */
  'backfill.request': { baseMs: 500, maxMs: 30_000, jitter: 'full' },
  /** The shard lock session failed (replicas): every shard was dropped; connect again. */
  'cluster.reconnect': { baseMs: 500, maxMs: 10_000, jitter: 'full' },
  /** Publishing to NATS failed (server down, JetStream not ready, a publish timed out): read and publish again. */
  'publish.retry': { baseMs: 250, maxMs: 5_000, jitter: 'full' },
  /** A collector session ended before the close: restart it. */
  'session.restart': { baseMs: 1_000, maxMs: 60_000, jitter: 'none' },
} as const satisfies Record<string, BackoffPolicy>;

export type RetryClass = keyof typeof RETRY_DELAYS;

/** The delay (ms) after `failures` earlier consecutive failures (0 = the first retry). */
export function backoffDelay(p: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const cap = Math.min(p.maxMs, p.baseMs * 2 ** Math.min(failures, 30));
  return p.jitter === 'full' ? Math.floor(random() * cap) : cap;
}

/** A policy with its consecutive-failure count, for loops that keep one across iterations. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay (ms); each call counts one more consecutive failure. */
  next(): number {
    const d = backoffDelay(this.policy, this.failures, this.random);
    this.failures++;
    return d;
  }

  /** Consecutive failures counted so far. */
  get count(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }
}
