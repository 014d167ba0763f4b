// The connect loop for one chunk of symbols (one socket), until the feed stops.
// Attempt, account for the outage, back off, again, until the feed's stop signal (abort or deadline). Shaped
// after tardis-node's realtimefeed loop, plus pong checks (in the attempt), full jitter, a backoff reset only
// after a stable minute, and a long wait on a rejection so a bad token never hammers the server.
import { Backoff, RETRY_DELAYS } from '../retry/backoff.js';
import { type AttemptResult, runAttempt } from './attempt.js';
import type { FeedContext, FeedGap } from './context.js';
import { type ConnectionStats, overallState } from './stats.js';

export type { FeedGap } from './context.js';

export interface ChunkLoopDeps {
  feed: FeedContext;
  symbols: string[];
  /** '*' when this socket carries every symbol of the feed, else the chunk's symbols joined with ','. */
  gapSymbol: string;
  conn: ConnectionStats;
}

export async function runChunkLoop(d: ChunkLoopDeps): Promise<void> {
  const { feed, conn } = d;
  const { clock, stats, timings } = feed;
  const backoff = new Backoff(
    { ...RETRY_DELAYS['feed.connect'], baseMs: timings.reconnectBaseMs, maxMs: timings.reconnectMaxMs },
    feed.random,
  );
  let gap: { startedAt: number; reason: string } | null = null;
  let attempts = 0;

  const setState = (s: ConnectionStats['state']): void => {
    conn.state = s;
    stats.state = overallState(stats.connections);
  };
  const endGap = (endedAt: number, note: string): void => {
    if (!gap) return;
    const g: FeedGap = {
      symbol: d.gapSymbol,
      symbols: d.symbols,
      startedAt: gap.startedAt,
      endedAt: Math.max(gap.startedAt, endedAt),
      reason: gap.reason + note,
    };
    gap = null;
    stats.gaps++;
    stats.gapMs += g.endedAt - g.startedAt;
    // The one log line per outage (rate-limited: a storm of drops becomes one line and a summary).
    feed.limited.event(
      'feed.gap',
      'warn',
      {
        symbol: g.symbol,
        startedAt: new Date(g.startedAt).toISOString(),
        ms: g.endedAt - g.startedAt,
        reason: g.reason,
      },
      `feed gap: not receiving for ${g.endedAt - g.startedAt} ms (${g.reason})`,
    );
    try {
      feed.onGap(g);
    } catch (err) {
      feed.limited.event('feed.on_gap_error', 'error', { err }, 'gap consumer threw');
    }
  };
  const pastDeadline = (): boolean => feed.deadline !== null && clock.now() >= feed.deadline;

  try {
    while (!feed.signal.aborted && !pastDeadline()) {
      if (attempts++ > 0) stats.reconnects++;
      const attemptStart = clock.now();
      setState('connecting');
      const r = await runAttempt({
        feed,
        symbols: d.symbols,
        conn,
        onSubscribed: (at) => {
          stats.subscribedSymbols += d.symbols.length;
          setState('subscribed');
          endGap(at, '');
          // The line a new user waits for (rate-limited: a flapping link does not repeat it).
          feed.limited.event(
            'feed.subscribed',
            'info',
            { symbols: d.symbols.length },
            `feed subscribed: ${d.symbols.length} symbol(s), trades streaming`,
          );
        },
      });
      if (r.subscribedAt !== null) stats.subscribedSymbols -= d.symbols.length;
      if (r.outcome === 'stopped') break;

      gap ??= { startedAt: gapStart(r, attemptStart), reason: r.reason };
      if (r.subscribedAt !== null && r.endedAt - r.subscribedAt >= timings.stableResetMs) backoff.reset();

      let delay: number;
      if (r.outcome === 'rejected') {
        stats.authFailures++;
        const fix = r.fix ?? r.reason;
        if (!feed.rejectionsLogged.has(fix)) {
          feed.rejectionsLogged.add(fix);
          feed.log.error(
            { event: 'feed.rejected', reason: r.reason, retryInMs: timings.authFailureBackoffMs },
            fix,
          );
        }
        delay = timings.authFailureBackoffMs;
      } else {
        if (r.subscribedAt === null) {
          feed.limited.event(
            'feed.connect_failed',
            'warn',
            { reason: r.reason },
            'feed connect failed; retrying with backoff',
          );
        }
        delay = backoff.next();
      }
      setState('backoff');
      await clock.sleep(delay, feed.signal);
    }
  } finally {
    // An outage still open when the feed stops is reported up to the stop (or the deadline, if earlier).
    const now = clock.now();
    endGap(feed.deadline !== null ? Math.min(now, feed.deadline) : now, ' (until stop)');
    setState('stopped');
  }
}

/** Where the outage began: the drop of a subscribed socket; for a stale one, the last trade; else the attempt. */
function gapStart(r: AttemptResult, attemptStart: number): number {
  if (r.subscribedAt === null) return attemptStart;
  return r.outcome === 'stale' ? r.lastDataAt : r.endedAt;
}
