// One connection attempt: open the socket, subscribe, stream, watch liveness, end.
// Whatever ends it (close, error, dead heartbeat, stale data, a rejection, the feed stopping) goes through
// `finish` once: the attempt's AbortController stops its watch loops, the socket is terminate()d (never
// close(): a dead peer would hold us 30 s), and the promise resolves with why. One outcome, so one log line
// upstream.
import type { FeedContext } from './context.js';
import { parseFrame } from './parseFrame.js';
import { FeedSocket } from './socket.js';
import { type ConnectionStats, recordLag } from './stats.js';
import { classifyStatus } from './status.js';

export interface AttemptDeps {
  feed: FeedContext;
  symbols: string[];
  conn: ConnectionStats;
  /** Called once the server confirms the socket (Authorized frame or first trade): the gap ends here. */
  onSubscribed: (at: number) => void;
}

export type AttemptOutcome = 'stopped' | 'closed' | 'error' | 'dead' | 'stale' | 'rejected';

export interface AttemptResult {
  outcome: AttemptOutcome;
  /** Short cause for logs and feed_gaps.reason (e.g. "closed 1006", "no pong"). */
  reason: string;
  subscribedAt: number | null;
  endedAt: number;
  /** Open time or the last trade: where data was last known to flow. */
  lastDataAt: number;
  /** For 'rejected': the operator-facing text with the fix. */
  fix?: string;
}

export function runAttempt(d: AttemptDeps): Promise<AttemptResult> {
  const { feed, conn } = d;
  const { clock, stats, timings, pacer } = feed;
  const startedAt = clock.now();
  // Only the symbols this socket asked for: a server streaming others (50,000 unknown symbols were once
  // all stored) gets them counted and dropped. One Set lookup per trade.
  const subscribed = new Set(d.symbols);
  if (feed.signal.aborted) {
    return Promise.resolve({
      outcome: 'stopped',
      reason: 'stopped',
      subscribedAt: null,
      endedAt: startedAt,
      lastDataAt: startedAt,
    });
  }
  return new Promise((resolve) => {
    const ac = new AbortController();
    let done = false;
    let subscribedAt: number | null = null;
    let lastDataAt = startedAt;
    let lastFrameAt = startedAt;
    let pongAt = startedAt;

    stats.connectAttempts++;
    // A new attempt: the ledger starts a new segment at its first trade.
    conn.attempts++;
    conn.firstTs = Number.NaN;
    conn.maxTs = Number.NEGATIVE_INFINITY;
    conn.state = 'connecting';
    // Handlers are wired before anything can call them: the socket starts its handshake at once.
    const ws: FeedSocket = new FeedSocket(
      feed.url,
      // Bounded both ways: Node clamps timers above 2^31−1 ms to 1 ms.
      {
        handshakeTimeoutMs: Math.min(30_000, Math.max(1000, 2 * timings.heartbeatIntervalMs)),
        maxPayload: 1 << 20,
      },
      {
        // Called again after finish when terminate() ends a handshake: finish ignores it.
        error: (err) => finish('error', `error: ${err.message}`),
        unexpectedResponse: (res) => {
          const code = res.statusCode ?? 0;
          res.on('error', () => {});
          res.resume();
          const v = classifyStatus(code, res.statusMessage ?? '');
          if (v.cls === 'rejected') finish('rejected', `http ${code}`, v.text);
          else finish('error', `http ${code}`);
        },
        close: (code) => finish('closed', `closed ${code}`),
        pong: () => {
          pongAt = lastFrameAt = clock.now();
          stats.pongs++; // liveness the watchdog can see while a quiet market sends no trades
        },
        ping: () => {
          lastFrameAt = clock.now();
        },
        open: () => onOpen(),
        message: (buf, start, end) => onMessage(buf, start, end),
      },
    );

    const finish = (outcome: AttemptOutcome, reason: string, fix?: string): void => {
      if (done) return;
      done = true;
      ac.abort();
      pacer.delete(ws);
      feed.signal.removeEventListener('abort', onStop);
      ws.terminate();
      const endedAt = clock.now();
      resolve({ outcome, reason, subscribedAt, endedAt, lastDataAt, ...(fix ? { fix } : {}) });
    };
    const onStop = (): void => finish('stopped', 'stopped');
    feed.signal.addEventListener('abort', onStop, { once: true });

    // Subscribe at once, but count the socket as subscribed (gap over) only when the server confirms:
    // its Authorized frame or a first trade. A token rejected right after the upgrade never gets there,
    // so a rejection loop stays one outage instead of a gap per attempt.
    const confirm = (at: number): void => {
      if (subscribedAt !== null) return;
      subscribedAt = at;
      conn.state = 'subscribed';
      conn.subscribedAt = at;
      d.onSubscribed(at);
    };

    function onOpen(): void {
      if (done) return;
      stats.connects++;
      conn.connects++;
      pacer.add(ws);
      ws.send(subscribeFrame(d.symbols));
      lastDataAt = lastFrameAt = pongAt = clock.now();
      heartbeat().catch((err: Error) => finish('error', `heartbeat: ${err.message}`));
      staleWatch().catch((err: Error) => finish('error', `stale watch: ${err.message}`));
    }

    // Synchronous and O(1): parse, count, hand over. Nothing here awaits or logs per trade.
    function onMessage(data: Buffer, start: number, end: number): void {
      if (done) return;
      pacer.onFrame(ws);
      const now = clock.now();
      lastFrameAt = now;
      stats.messages++;
      stats.lastMessageAt = now;
      const m = parseFrame(data, feed.seq.next, now, start, end);
      if (m.kind === 'trade') {
        if (!subscribed.has(m.trade.symbol)) {
          stats.unsubscribedTrades++;
          feed.limited.event(
            'feed.unsubscribed',
            'warn',
            { symbol: m.trade.symbol.slice(0, 32) },
            'trade for a symbol this socket did not subscribe to: dropped',
          );
          return;
        }
        feed.seq.next++;
        if (subscribedAt === null) confirm(now);
        stats.trades++;
        stats.lastTradeAt = conn.lastTradeAt = lastDataAt = now;
        recordLag(stats.lag, now - m.trade.ts);
        const ts = m.trade.ts;
        try {
          feed.onTrade(m.trade);
          // Only a trade the consumer took moves what the ledger may cover (one compare per trade).
          if (ts > conn.maxTs) {
            if (conn.maxTs === Number.NEGATIVE_INFINITY) conn.firstTs = ts;
            conn.maxTs = ts;
          }
        } catch (err) {
          stats.onTradeErrors++;
          conn.faults++;
          if (ts < conn.faultMinTs) conn.faultMinTs = ts;
          if (ts > conn.faultMaxTs) conn.faultMaxTs = ts;
          feed.limited.event('feed.on_trade_error', 'error', { err }, 'trade consumer threw; trade skipped');
        }
      } else if (m.kind === 'status') {
        stats.statusFrames++;
        const v = classifyStatus(m.code, m.message);
        if (v.cls === 'rejected') finish('rejected', `status ${m.code}`, v.text);
        else if (v.cls === 'ok') confirm(now);
        else feed.limited.event(`feed.status.${m.code}`, 'warn', { code: m.code }, v.text);
      } else {
        stats.invalid[m.reason]++;
        feed.limited.event(
          `feed.invalid.${m.reason}`,
          'warn',
          { reason: m.reason, sample: data.toString('utf8', start, Math.min(end, start + 200)) },
          'invalid feed message skipped',
        );
      }
    }

    // Ping every interval. A ping still unanswered at the next tick means dead if nothing at all came in
    // since it was sent (half-open peer: found within 2 intervals); if data is flowing, the pong gets one
    // more interval (a pong can queue behind a burst) and then the socket is dead anyway.
    async function heartbeat(): Promise<void> {
      let pingAt: number | null = null;
      let unanswered = 0; // ticks since the outstanding ping was sent
      for (;;) {
        await clock.sleep(timings.heartbeatIntervalMs, ac.signal);
        if (ac.signal.aborted) return;
        // Held by the sink's backlog, we read nothing, pongs included: that silence is ours, not the peer's.
        if (pacer.held) {
          pingAt = null;
          continue;
        }
        if (pingAt !== null && pongAt < pingAt) {
          unanswered++;
          if (lastFrameAt < pingAt) {
            stats.deadSockets++;
            return finish('dead', 'no frame and no pong');
          }
          if (unanswered >= 2) {
            stats.deadSockets++;
            return finish('dead', 'no pong');
          }
          continue;
        }
        pingAt = clock.now();
        unanswered = 0;
        ws.ping();
      }
    }

    // In session, no trade on any subscribed symbol for dataStaleMs: resubscribe once; still silent
    // after another dataStaleMs: end the socket (the loop reconnects). Sleeps until due, never polls.
    async function staleWatch(): Promise<void> {
      const stale = timings.dataStaleMs;
      let resubAt: number | null = null;
      let quietFrom = 0; // restarts the count when the session (re)opens
      for (;;) {
        if (ac.signal.aborted) return;
        const now = clock.now();
        if (resubAt !== null && lastDataAt > resubAt) resubAt = null;
        const due = Math.max(lastDataAt, quietFrom, resubAt ?? 0) + stale;
        if (now < due) {
          await clock.sleep(due - now, ac.signal);
          continue;
        }
        if (!feed.inSession(now) || pacer.held) {
          quietFrom = now;
          continue;
        }
        if (resubAt === null) {
          resubAt = now;
          stats.resubscribes++;
          feed.limited.event(
            'feed.resubscribe',
            'warn',
            { symbols: d.symbols.length, quietMs: now - lastDataAt },
            'no trades: resubscribing',
          );
          if (ws.isOpen) ws.send(subscribeFrame(d.symbols));
          continue;
        }
        stats.staleReconnects++;
        return finish('stale', 'no trades after resubscribe');
      }
    }
  });
}

export function subscribeFrame(symbols: readonly string[]): string {
  return JSON.stringify({ action: 'subscribe', symbols: symbols.join(',') });
}
