// Gaps as they open, for the publisher: a subscribed feed connection that stopped receiving.
// A gap as it opens: a feed connection that was subscribed and now is not (reconnecting, in backoff). No
// ledger row exists until the connection is back (the row then says 'closed'), so the publisher is told
// from the feed's own state, read on the collector's flush timer (nothing on the trade path). The instant
// is when the collector noticed (within one tick of the timer); the closed row carries the feed's own.
import type { ConnectionStats } from '../feed/stats.js';

export function watchGapOpens(
  connections: () => readonly ConnectionStats[],
  opened: (symbols: readonly string[], at: number, reason: string) => void,
): (now: number) => void {
  const last = new WeakMap<ConnectionStats, ConnectionStats['state']>();
  return (now) => {
    for (const c of connections()) {
      const before = last.get(c);
      last.set(c, c.state);
      if (before === 'subscribed' && (c.state === 'connecting' || c.state === 'backoff'))
        opened(c.symbols, now, 'feed disconnected');
    }
  };
}
