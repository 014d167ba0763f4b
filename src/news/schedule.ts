// When to poll a feed next.
// Healthy feeds: every interval ±10 % (jitter keeps feeds on one host from lining up). Failing feeds:
// exponential backoff from the interval, capped; 429/503 wait at least as long as Retry-After says. A feed
// failing for a day is dead: polled rarely, in case it comes back.

export const HOUR_MS = 3_600_000;
export const BACKOFF_CAP_MS = 6 * HOUR_MS;
export const DEAD_AFTER_MS = 24 * HOUR_MS;
export const DEAD_POLL_MS = 6 * HOUR_MS;
// A server asking us to stay away for a week is not obeyed beyond a day.
export const MAX_RETRY_AFTER_MS = 24 * HOUR_MS;

export type Random = () => number;

/** `ms` ± 10 %. */
export function jitter(ms: number, random: Random): number {
  return Math.round(ms * (0.9 + 0.2 * random()));
}

export function delayAfterSuccess(intervalMs: number, random: Random): number {
  return jitter(intervalMs, random);
}

/**
 * `failures` counts this one (1 = first failure). `retryAfterMs` is a floor, never shortened by jitter.
 */
export function delayAfterFailure(
  intervalMs: number,
  failures: number,
  dead: boolean,
  retryAfterMs: number | null,
  random: Random,
): number {
  const base = dead
    ? DEAD_POLL_MS
    : Math.min(BACKOFF_CAP_MS, intervalMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.max(jitter(base, random), retryAfterMs ?? 0);
}

/** Retry-After as delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value == null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(MAX_RETRY_AFTER_MS, Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - nowMs));
}
