// The connect loop for one chunk of symbols (one socket): attempt, account for the outage, back off, again,
// until the feed's stop signal (abort or deadline). Shaped after tardis-node's realtimefeed loop, plus pong
// checks (in the attempt), full jitter, a backoff reset only after a stable minute, and a long wait on a
// rejection so a bad token never hammers the server.
import type { FeedGap, Trade } from '../aggregate/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import type { RateLimitedLog } from '../log/rateLimit.js';
import { Backoff, RETRY_DELAYS } from '../retry/backoff.js';
import { type AttemptResult, runAttempt } from './attempt.js';
import { type ConnectionStats, type FeedStats, overallState } from './stats.js';

export type { FeedGap } from '../aggregate/types.js';

export interface ChunkLoopDeps {
  url: string;
  symbols: string[];
  gapSymbol: string;
  heartbeatIntervalMs: number;
  dataStaleMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  authFailureBackoffMs: number;
  /** Streaming this long without a drop resets the backoff. */
  stableResetMs: number;
  deadline: number | null;
  signal: AbortSignal;
  clock: Clock;
  log: Logger;
  limited: RateLimitedLog;
  stats: FeedStats;
  conn: ConnectionStats;
  seq: { next: number };
  /** Rejection texts already logged by any chunk of this feed: each is said once. */
  rejectionsLogged: Set<string>;
  onTrade: (t: Trade) => void;
  onGap: (g: FeedGap) => void;
  inSession: (now: number) => boolean;
  random: () => number;
}

export async function runChunkLoop(d: ChunkLoopDeps): Promise<void> {
  const { clock, stats, conn } = d;
  const backoff = new Backoff(
    { ...RETRY_DELAYS['feed.connect'], baseMs: d.reconnectBaseMs, maxMs: d.reconnectMaxMs },
    d.random,
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
    d.limited.event(
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
      d.onGap(g);
    } catch (err) {
      d.limited.event('feed.on_gap_error', 'error', { err }, 'gap consumer threw');
    }
  };
  const pastDeadline = (): boolean => d.deadline !== null && clock.now() >= d.deadline;

  try {
    while (!d.signal.aborted && !pastDeadline()) {
      if (attempts++ > 0) stats.reconnects++;
      const attemptStart = clock.now();
      setState('connecting');
      const r = await runAttempt({
        url: d.url,
        symbols: d.symbols,
        heartbeatIntervalMs: d.heartbeatIntervalMs,
        dataStaleMs: d.dataStaleMs,
        clock,
        signal: d.signal,
        inSession: d.inSession,
        stats,
        conn,
        limited: d.limited,
        seq: d.seq,
        onTrade: d.onTrade,
        onSubscribed: (at) => {
          stats.subscribedSymbols += d.symbols.length;
          setState('subscribed');
          endGap(at, '');
          // The line a new user waits for (rate-limited: a flapping link does not repeat it).
          d.limited.event(
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
      if (r.subscribedAt !== null && r.endedAt - r.subscribedAt >= d.stableResetMs) backoff.reset();

      let delay: number;
      if (r.outcome === 'rejected') {
        stats.authFailures++;
        const fix = r.fix ?? r.reason;
        if (!d.rejectionsLogged.has(fix)) {
          d.rejectionsLogged.add(fix);
          d.log.error({ event: 'feed.rejected', reason: r.reason, retryInMs: d.authFailureBackoffMs }, fix);
        }
        delay = d.authFailureBackoffMs;
      } else {
        if (r.subscribedAt === null) {
          d.limited.event(
            'feed.connect_failed',
            'warn',
            { reason: r.reason },
            'feed connect failed; retrying with backoff',
          );
        }
        delay = backoff.next();
      }
      setState('backoff');
      await clock.sleep(delay, d.signal);
    }
  } finally {
    // An outage still open when the feed stops is reported up to the stop (or the deadline, if earlier).
    const now = clock.now();
    endGap(d.deadline !== null ? Math.min(now, d.deadline) : now, ' (until stop)');
    setState('stopped');
  }
}

/** Where the outage began: the drop of a subscribed socket; for a stale one, the last trade; else the attempt. */
function gapStart(r: AttemptResult, attemptStart: number): number {
  if (r.subscribedAt === null) return attemptStart;
  return r.outcome === 'stale' ? r.lastDataAt : r.endedAt;
}
