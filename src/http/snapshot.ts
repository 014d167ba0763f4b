// The plain object main fills from every part's stats. /health serves it as JSON and /metrics reads it at
// scrape time, so the HTTP layer never reaches into the parts themselves.

export interface HealthSnapshot {
  /** 'degraded' when main sees a problem worth a glance (sink disconnected, feed stale in session, …). */
  status: 'ok' | 'degraded';
  /** How the collector runs, e.g. 'production' | 'local' | 'replay' (free text, shown as a metric label). */
  mode: string;
  uptimeS: number;
  market: {
    open: boolean;
    /** The calendar's reason: 'open', 'weekend', a holiday's name, 'before open', 'after close', … */
    reason: string;
    /** ISO-8601 UTC, or null when unknown. */
    nextOpen: string | null;
    nextClose: string | null;
  };
  feed: {
    /** e.g. 'idle' | 'connecting' | 'subscribed' | 'backoff' | 'auth-failed'. */
    state: string;
    connections: number;
    lastMessageAgeMs: number | null;
    lastTradeAgeMs: number | null;
    /** Reset at the start of each session date; the *_total metrics built on them treat the drop as a reset. */
    reconnectsToday: number;
    gapsToday: number;
    /** Receipt time − trade `t`. */
    lagP50Ms: number | null;
    lagP99Ms: number | null;
    /** Valid trades received since start. */
    trades: number;
    /** Invalid messages since start, by reason (e.g. 'bad_price', 'missing_symbol', 'json'). */
    invalidMessages: Record<string, number>;
    subscribedSymbols: number;
    /** Trades for symbols a socket never subscribed to, dropped. */
    unsubscribedTrades: number;
    /** What backpressure cost: reading paused while a turn was over budget or the sink's backlog high. */
    backpressure: {
      /** Reading is held now because the sink is behind. */
      held: boolean;
      sinkHolds: number;
      /** Time reading was held for the sink, the current hold included. */
      sinkHeldMs: number;
      loopPauses: number;
      loopPausedMs: number;
    };
  };
  aggregate: {
    /** Late trades merged into an already written 1-second candle. */
    lateTrades: number;
    /** Trades older than the lateness window, dropped. */
    lateDropped: number;
    /** Candles emitted to the sink since start (amendments included). */
    candles1s: number;
    candles100t: number;
    openSymbols: number;
  };
  sink: {
    bufferedRows: number;
    maxBufferRows: number;
    spooledRows: number;
    /** ISO-8601 UTC of the last successful write. */
    lastWriteAt: string | null;
    rowsWritten: number;
    retries: number;
    deadLettered: number;
    connected: boolean;
    lastError: string | null;
  };
  news: { enabled: boolean; feedsOk: number; feedsFailing: number; items: number };
  eventLoop: { delayP99Ms: number; maxDelayMs: number };
}

/** A valid snapshot with nothing happening yet: main's starting point, and the tests' fixture. */
export function emptySnapshot(mode = 'unknown'): HealthSnapshot {
  return {
    status: 'ok',
    mode,
    uptimeS: 0,
    market: { open: false, reason: 'unknown', nextOpen: null, nextClose: null },
    feed: {
      state: 'idle',
      connections: 0,
      lastMessageAgeMs: null,
      lastTradeAgeMs: null,
      reconnectsToday: 0,
      gapsToday: 0,
      lagP50Ms: null,
      lagP99Ms: null,
      trades: 0,
      invalidMessages: {},
      subscribedSymbols: 0,
      unsubscribedTrades: 0,
      backpressure: { held: false, sinkHolds: 0, sinkHeldMs: 0, loopPauses: 0, loopPausedMs: 0 },
    },
    aggregate: { lateTrades: 0, lateDropped: 0, candles1s: 0, candles100t: 0, openSymbols: 0 },
    sink: {
      bufferedRows: 0,
      maxBufferRows: 0,
      spooledRows: 0,
      lastWriteAt: null,
      rowsWritten: 0,
      retries: 0,
      deadLettered: 0,
      connected: false,
      lastError: null,
    },
    news: { enabled: false, feedsOk: 0, feedsFailing: 0, items: 0 },
    eventLoop: { delayP99Ms: 0, maxDelayMs: 0 },
  };
}
