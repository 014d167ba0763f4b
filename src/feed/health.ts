// "Is the feed healthy?", defined once: /readyz and /health both ask it.
// While collecting, the feed must be subscribed on every connection and have sent a frame within
// FEED_DATA_STALE_MS; outside market hours the feed is idle by design and always healthy.
import type { FeedStats } from './stats.js';

export function feedHealthy(
  feed: Pick<FeedStats, 'state' | 'lastMessageAt'>,
  now: number,
  staleMs: number,
  collecting: boolean,
): boolean {
  if (!collecting) return true;
  return feed.state === 'subscribed' && feed.lastMessageAt !== null && now - feed.lastMessageAt < staleMs;
}
