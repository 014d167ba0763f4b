// The plain object http/fillSnapshot.ts fills from every part's stats.
// /health serves it as JSON and /metrics reads it at scrape time, so the HTTP layer never reaches into the
// parts themselves.

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
    /** Reset at the start of each New York date (for people); the *_total metrics use the totals below. */
    reconnectsToday: number;
    gapsToday: number;
    /** Since start, never reset. */
    reconnects: number;
    gaps: number;
    /** Receipt time − trade `t`. */
    lagP50Ms: number | null;
    lagP99Ms: number | null;
    /** The same lag as a histogram: cumulative counts at `le` (seconds), all observations, their sum. */
    lag: { le: number[]; cumulative: number[]; count: number; sumSeconds: number };
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
  /** Trades by what their conditions let them update (CANDLE_CONDITIONS), and codes with no rule. */
  conditions: {
    mode: string;
    all: number;
    volumeOnly: number;
    none: number;
    partial: number;
    /** Trades per condition id (or tape letter) with no rule: they update every field. */
    unknown: Record<string, number>;
  };
  aggregate: {
    /** Late trades merged into an already written 1-second candle. */
    lateTrades: number;
    /** Trades older than the lateness window, dropped. */
    lateDropped: number;
    /** Looks at a due 1-second candle that found it waiting for its symbol's backlog (every 100 ms). */
    backlogWaits: number;
    /** Candles emitted to the sink since start (amendments included). */
    candles1s: number;
    candles100t: number;
    openSymbols: number;
    /** The feed's clock minus ours, from the last trade (negative: a delayed feed); null before any trade. */
    feedClockOffsetMs: number | null;
    /** Trades kept out of every candle for a timestamp far from the feed's clock. */
    quarantined: number;
  };
  sink: {
    bufferedRows: number;
    maxBufferRows: number;
    spooledRows: number;
    /** Memory cap while the spool cannot be written (SINK_HARD_MAX_ROWS). */
    hardMaxRows: number;
    /** Rows lost since start (counter; > 0 keeps status degraded until a restart). */
    lostRows: number;
    /** Candle rows the replica write fence refused (a peer holds the shard; their time stays uncovered). */
    fencedRows: number;
    /** Failed spool writes since start, and the last one's error. */
    spoolErrors: number;
    lastSpoolError: string | null;
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
  /** When each symbol's last trade was received (ISO-8601 UTC), for the first MAX_SYMBOL_SERIES symbols. */
  symbolLastTradeAt: Record<string, string>;
  /**
   * The ledger (coverage, as the database confirmed it): how far behind now the least advanced feed
   * connection's confirmed coverage is, checkpoints whose rows still wait for the database, holes cut (rows
   * refused, dropped or lost; trades a 100-tick series could not hold), coverage writes and their failures.
   */
  ledger?: {
    confirmedTo: string | null;
    confirmedLagMs: number | null;
    unsettledEpochs: number;
    holes: number;
    writes: number;
    writeErrors: number;
    derivations: number;
  };
  /** Publishing to NATS JetStream (src/publish): 'off' without NATS_URL; counters since start. */
  publish: {
    state: 'off' | 'connecting' | 'publishing' | 'catching-up' | 'down' | 'standby' | 'stopped';
    stream: string | null;
    published: number;
    /** Published by a catch-up: committed while NATS was down or slow. */
    republished: number;
    duplicates: number;
    failed: number;
    /** Candle rows committed, not yet on the stream. */
    pending: number;
    lastPublishedAt: string | null;
    lastError: string | null;
  };
  /** Replicas on PostgreSQL (absent with the embedded database): the shards this collector holds, who is alive. */
  cluster?: {
    id: string;
    shards: number;
    /** Shard indexes held (each one feed connection). */
    held: number[];
    lockSession: boolean;
    collectors: {
      id: string;
      host: string;
      pid: number;
      shards: number;
      heartbeatAgeMs: number;
      self: boolean;
    }[];
    handedOver: number;
    lost: number;
    fenced: number;
  };
}

/** The publisher's part of the snapshot when nothing is published (no NATS_URL, or not started yet). */
export const PUBLISH_OFF: HealthSnapshot['publish'] = {
  state: 'off',
  stream: null,
  published: 0,
  republished: 0,
  duplicates: 0,
  failed: 0,
  pending: 0,
  lastPublishedAt: null,
  lastError: null,
};

/** Per-symbol series are bounded: beyond this many symbols the rest are left out of /health and /metrics. */
export const MAX_SYMBOL_SERIES = 1000;

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
      reconnects: 0,
      gaps: 0,
      lagP50Ms: null,
      lagP99Ms: null,
      lag: { le: [], cumulative: [], count: 0, sumSeconds: 0 },
      trades: 0,
      invalidMessages: {},
      subscribedSymbols: 0,
      unsubscribedTrades: 0,
      backpressure: { held: false, sinkHolds: 0, sinkHeldMs: 0, loopPauses: 0, loopPausedMs: 0 },
    },
    conditions: { mode: 'sip', all: 0, volumeOnly: 0, none: 0, partial: 0, unknown: {} },
    aggregate: {
      lateTrades: 0,
      lateDropped: 0,
      backlogWaits: 0,
      candles1s: 0,
      candles100t: 0,
      openSymbols: 0,
      feedClockOffsetMs: null,
      quarantined: 0,
    },
    sink: {
      bufferedRows: 0,
      maxBufferRows: 0,
      spooledRows: 0,
      hardMaxRows: 0,
      lostRows: 0,
      fencedRows: 0,
      spoolErrors: 0,
      lastSpoolError: null,
      lastWriteAt: null,
      rowsWritten: 0,
      retries: 0,
      deadLettered: 0,
      connected: false,
      lastError: null,
    },
    publish: { ...PUBLISH_OFF },
    news: { enabled: false, feedsOk: 0, feedsFailing: 0, items: 0 },
    eventLoop: { delayP99Ms: 0, maxDelayMs: 0 },
    symbolLastTradeAt: {},
  };
}
