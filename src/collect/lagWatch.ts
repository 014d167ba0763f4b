// The lag watch: one log line when the feed's clock is far from ours.
// Says once, in the log, when the feed's clock is far from ours (a delayed data plan, a lagging upstream, a
// skewed host): candles follow the feed's clock either way (docs/ARCHITECTURE.md "Event time"), but a user
// should know why their candles are written minutes after the trades' own time.
import type { FeedClock } from '../aggregate/feedClock.js';
import type { Logger } from '../log/logger.js';

/** Beyond this, in either direction, the offset is worth a line. */
const LARGE_MS = 30_000;

export function createLagWatch(log: Logger, clock: FeedClock): () => void {
  let warned = false;
  return () => {
    const off = clock.lastOffset;
    if (warned || off === null || Math.abs(off) < LARGE_MS) return;
    warned = true;
    const s = Math.round(Math.abs(off) / 1000);
    log.warn(
      { component: 'aggregate', feedClockOffsetMs: off },
      off < 0
        ? `the feed's trades are stamped ~${s} s before we receive them (a delayed plan or a lagging upstream): candles follow the feed's clock`
        : `the feed's trades are stamped ~${s} s after our clock (check this host's time sync): candles follow the feed's clock`,
    );
  };
}
