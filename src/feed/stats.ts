// The feed's counters: plain numbers the HTTP/metrics layer reads at scrape time.
// Updated on the hot path, so nothing here allocates per trade (the lag histogram is a fixed array of
// log-spaced buckets).
import { INVALID_REASONS, type InvalidReason } from './parse.js';

export type FeedState = 'idle' | 'connecting' | 'subscribed' | 'backoff' | 'stopped';

/** One socket (one chunk of symbols). */
export interface ConnectionStats {
  symbols: string[];
  state: FeedState;
  connects: number;
  subscribedAt: number | null;
  lastTradeAt: number | null;
  /**
   * What the ledger's coverage reads (ledger/tracker.ts ConnView): attempts started; the current attempt's
   * first and newest trade times (exchange ts) among trades the consumer took; trades it threw on.
   */
  attempts: number;
  firstTs: number;
  maxTs: number;
  faults: number;
  faultMinTs: number;
  faultMaxTs: number;
}

export function newConnectionStats(symbols: string[]): ConnectionStats {
  return {
    symbols,
    state: 'idle',
    connects: 0,
    subscribedAt: null,
    lastTradeAt: null,
    attempts: 0,
    firstTs: Number.NaN,
    maxTs: Number.NEGATIVE_INFINITY,
    faults: 0,
    faultMinTs: Number.POSITIVE_INFINITY,
    faultMaxTs: Number.NEGATIVE_INFINITY,
  };
}

/** Receipt − trade `t` in ms. Bucket i holds lags up to 2^(i/4) − 1 ms (≈19 % wide); last bucket: beyond. */
export interface LagHistogram {
  counts: Uint32Array;
  count: number;
  /** Trades whose `t` was after their receipt (clock skew); counted in bucket 0. */
  negative: number;
  /** Σ lag (ms), negative lags as 0: the histogram's _sum. */
  sumMs: number;
}

const LAG_STEPS_PER_DOUBLING = 4;
/** 2^21 ms ≈ 35 min: anything later is in the overflow bucket. */
const LAG_BUCKETS = 21 * LAG_STEPS_PER_DOUBLING + 2;

export interface FeedStats {
  state: FeedState;
  connections: ConnectionStats[];
  connectAttempts: number;
  connects: number;
  reconnects: number;
  messages: number;
  trades: number;
  invalid: Record<InvalidReason, number>;
  statusFrames: number;
  authFailures: number;
  /** Sockets ended by the heartbeat (missing pong / silent peer). */
  deadSockets: number;
  resubscribes: number;
  /** Pongs received: the link is alive even when no trade arrives. */
  pongs: number;
  staleReconnects: number;
  onTradeErrors: number;
  /** Trades for a symbol the socket never subscribed to: dropped. */
  unsubscribedTrades: number;
  /** Backpressure (pacer.ts): turns that hit the work budget and the time reading waited for the next turn. */
  loopPauses: number;
  loopPausedMs: number;
  /** Holds while the sink's backlog was high, the time they lasted, and when the current one began. */
  sinkHolds: number;
  sinkHeldMs: number;
  heldSince: number | null;
  lastMessageAt: number | null;
  lastTradeAt: number | null;
  gaps: number;
  gapMs: number;
  subscribedSymbols: number;
  lag: LagHistogram;
}

export function createFeedStats(): FeedStats {
  return {
    state: 'idle',
    connections: [],
    connectAttempts: 0,
    connects: 0,
    reconnects: 0,
    messages: 0,
    trades: 0,
    invalid: Object.fromEntries(INVALID_REASONS.map((r) => [r, 0])) as Record<InvalidReason, number>,
    statusFrames: 0,
    authFailures: 0,
    deadSockets: 0,
    resubscribes: 0,
    pongs: 0,
    staleReconnects: 0,
    onTradeErrors: 0,
    unsubscribedTrades: 0,
    loopPauses: 0,
    loopPausedMs: 0,
    sinkHolds: 0,
    sinkHeldMs: 0,
    heldSince: null,
    lastMessageAt: null,
    lastTradeAt: null,
    gaps: 0,
    gapMs: 0,
    subscribedSymbols: 0,
    lag: { counts: new Uint32Array(LAG_BUCKETS), count: 0, negative: 0, sumMs: 0 },
  };
}

export function recordLag(h: LagHistogram, lagMs: number): void {
  let i = 0;
  if (lagMs < 0) h.negative++;
  else if (lagMs > 0) {
    i = Math.min(LAG_BUCKETS - 1, Math.ceil(Math.log2(lagMs + 1) * LAG_STEPS_PER_DOUBLING));
    h.sumMs += lagMs;
  }
  h.counts[i] = (h.counts[i] ?? 0) + 1;
  h.count++;
}

/** Upper bound (ms) of the bucket holding quantile q (0–1); null when empty; Infinity in the overflow. */
export function lagQuantile(h: LagHistogram, q: number): number | null {
  if (h.count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * h.count));
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i] ?? 0;
    if (seen >= rank) {
      if (i === h.counts.length - 1) return Number.POSITIVE_INFINITY;
      return Math.round(2 ** (i / LAG_STEPS_PER_DOUBLING) - 1);
    }
  }
  return Number.POSITIVE_INFINITY;
}

/** Every 2nd doubling (×4): 12 Prometheus buckets from 0 to ~17 min, each an exact bucket edge here. */
const EXPORTED_STEPS = 2 * LAG_STEPS_PER_DOUBLING;

/** Cumulative counts at Prometheus `le` edges (seconds); the +Inf bucket is `count`. Scrape time only. */
export function lagBuckets(h: LagHistogram): { le: number[]; cumulative: number[] } {
  const le: number[] = [];
  const cumulative: number[] = [];
  let seen = 0;
  for (let i = 0; i < h.counts.length - 1; i++) {
    seen += h.counts[i] ?? 0;
    if (i % EXPORTED_STEPS === 0) {
      le.push((2 ** (i / LAG_STEPS_PER_DOUBLING) - 1) / 1000);
      cumulative.push(seen);
    }
  }
  return { le, cumulative };
}

/** The overall state from the sockets': subscribed only when every chunk is. */
export function overallState(conns: ConnectionStats[]): FeedState {
  if (conns.length === 0) return 'idle';
  if (conns.every((c) => c.state === 'stopped')) return 'stopped';
  if (conns.every((c) => c.state === 'subscribed')) return 'subscribed';
  if (conns.some((c) => c.state === 'backoff')) return 'backoff';
  return 'connecting';
}

/** A JSON-friendly view (for /health and logs): counters plus lag p50/p99. */
export function feedStatsSnapshot(s: FeedStats) {
  const { lag, connections, ...rest } = s;
  return {
    ...rest,
    invalid: { ...s.invalid },
    connections: connections.map((c) => ({ ...c, symbols: c.symbols.length })),
    lagP50Ms: lagQuantile(lag, 0.5),
    lagP99Ms: lagQuantile(lag, 0.99),
    lagCount: lag.count,
  };
}
