// The feed (runFeed): one connect loop per chunk of symbols, all stopped together.
// The symbols split into chunks of maxSymbolsPerConnection, one connect loop (one socket) per chunk, all
// stopped together at the deadline (the close) or on abort, whatever state they are in.
// Returns when every loop has returned; it never retries past the deadline. Takes plain options and one
// timings object (main builds it with feedTimings(config)).
import { setMaxListeners } from 'node:events';
import type { Trade } from '../aggregate/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rateLimit.js';
import { type FeedGap, runChunkLoop } from './connectLoop.js';
import type { FeedContext } from './context.js';
import { Pacer } from './pacer.js';
import {
  type ConnectionStats,
  createFeedStats,
  type FeedStats,
  newConnectionStats,
  overallState,
} from './stats.js';
import type { FeedTimings } from './timings.js';

/** Trade seq is seeded from the clock at this many per millisecond (see arrivalCounter). */
const SEQ_PER_MS = 1_000;

/**
 * The arrival counter of a feed (or of concurrent per-shard runs, shared). It keeps growing across runs (a
 * session restarted the same second still breaks ties right) and across processes: it is part of the raw
 * archive's key (ticks (symbol, ts, seq)), so a restart must never reuse one. Seeded from the clock in
 * microseconds: it stays ahead unless the feed averaged over 1,000 messages a millisecond, and below 2^53
 * until the year 2255.
 */
export function arrivalCounter(stats: Pick<FeedStats, 'messages'>, now: number): { next: number } {
  return { next: Math.max(stats.messages + 1, Math.floor(now) * SEQ_PER_MS) };
}

export interface FeedOptions {
  /** Endpoint without the token, e.g. wss://ws.eodhistoricaldata.com/ws/us. */
  url: string;
  token: string;
  symbols: string[];
  maxSymbolsPerConnection: number;
  timings: FeedTimings;
  /** Epoch ms at which to stop (the close); null = until aborted. */
  deadline: number | null;
  signal: AbortSignal;
  clock: Clock;
  log: Logger;
  onTrade: (t: Trade) => void;
  onGap: (g: FeedGap) => void;
  /** Data staleness is judged only while this is true (regular session). Default: always. */
  inSession?: (now: number) => boolean;
  random?: () => number;
  /** Counters to update (main exposes them); default: a fresh object. */
  stats?: FeedStats;
  /** The sink's backlog as a fraction of its buffer: above half, reading pauses (pacer.ts). */
  backlog?: () => number;
  /**
   * These symbols are one shard of a larger feed (replicas: one run per shard held, sharing `stats`): gaps
   * name their symbols even with one chunk, and an aborted run takes its connections off `stats`.
   */
  shardOfMany?: boolean;
  /** Arrival order shared by concurrent runs (default: a fresh counter seeded from the clock). */
  seq?: { next: number };
  /**
   * Backpressure shared by concurrent runs (one per shard): the turn budget holds for every socket of the
   * process, not per run. Default: this run's own, built from `timings` and `backlog`.
   */
  pacer?: Pacer;
}

export interface FeedResult {
  endedBy: 'deadline' | 'aborted' | 'no_symbols';
  /** Counts for this run (the stats object may span several runs). */
  trades: number;
  gaps: number;
  connects: number;
}

export async function runFeed(opts: FeedOptions): Promise<FeedResult> {
  const { clock } = opts;
  const stats = opts.stats ?? createFeedStats();
  const before = { trades: stats.trades, gaps: stats.gaps, connects: stats.connects };
  const result = (endedBy: FeedResult['endedBy']): FeedResult => ({
    endedBy,
    trades: stats.trades - before.trades,
    gaps: stats.gaps - before.gaps,
    connects: stats.connects - before.connects,
  });
  const symbols = [...new Set(opts.symbols)];
  if (symbols.length === 0) return result('no_symbols');

  const log = opts.log.child({ component: 'feed' });
  const limited = new RateLimitedLog(log, { now: () => clock.now() });
  limited.startTimer();

  // One stop signal for every loop: the caller's abort or the deadline, whichever comes first.
  const stop = new AbortController();
  // Every socket's attempt and liveness loops listen on it: 5,000 symbols are 100 sockets, not a leak.
  setMaxListeners(0, stop.signal);
  let endedBy: FeedResult['endedBy'] = 'aborted';
  const onAbort = (): void => stop.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  if (opts.signal.aborted) stop.abort();
  if (opts.deadline !== null && !stop.signal.aborted) {
    const deadline = opts.deadline;
    const wait = deadline - clock.now();
    const fire = (): void => {
      if (stop.signal.aborted) return;
      endedBy = 'deadline';
      stop.abort();
    };
    if (wait <= 0) fire();
    else void clock.sleep(wait, stop.signal).then(fire);
  }

  const chunks: string[][] = [];
  const per = Math.max(1, opts.maxSymbolsPerConnection);
  for (let i = 0; i < symbols.length; i += per) chunks.push(symbols.slice(i, i + per));
  const conns: ConnectionStats[] = chunks.map((c) => newConnectionStats(c));
  // Concurrent runs (one per shard) share the stats: replace only this run's chunks.
  const mine = new Set(chunks.map((c) => c.join(',')));
  stats.connections = [...stats.connections.filter((c) => !mine.has(c.symbols.join(','))), ...conns];

  const base = new URL(opts.url);
  const full = new URL(opts.url);
  full.searchParams.set('api_token', opts.token);
  log.info(
    { endpoint: base.href, symbols: symbols.length, connections: chunks.length, deadline: opts.deadline },
    `feed starting: ${symbols.length} symbols over ${chunks.length} connection(s)`,
  );

  const seq = opts.seq ?? arrivalCounter(stats, clock.now());
  const feed: FeedContext = {
    url: full.href,
    timings: opts.timings,
    deadline: opts.deadline,
    signal: stop.signal,
    clock,
    log,
    limited,
    stats,
    seq,
    rejectionsLogged: new Set<string>(),
    pacer:
      opts.pacer ??
      new Pacer({
        turnBudgetMs: opts.timings.turnBudgetMs,
        holdCheckMs: opts.timings.holdCheckMs,
        ...(opts.backlog ? { backlog: opts.backlog } : {}),
        clock,
        stats,
        signal: stop.signal,
      }),
    onTrade: opts.onTrade,
    onGap: opts.onGap,
    inSession: opts.inSession ?? (() => true),
    random: opts.random ?? Math.random,
  };
  let settled: PromiseSettledResult<void>[];
  try {
    settled = await Promise.allSettled(
      chunks.map((chunk, i) =>
        runChunkLoop({
          feed,
          symbols: chunk,
          gapSymbol: chunks.length === 1 && !opts.shardOfMany ? '*' : chunk.join(','),
          conn: conns[i]!,
        }),
      ),
    );
  } finally {
    stop.abort(); // ends the deadline sleep if the loops ended some other way
    opts.signal.removeEventListener('abort', onAbort);
    limited.stop();
    if (opts.shardOfMany && endedBy === 'aborted') {
      // A shard handed over or lost: its sockets are no longer this collector's feed.
      stats.connections = stats.connections.filter((c) => !conns.includes(c));
      stats.state = overallState(stats.connections);
    }
  }
  // A loop can only fail on a bug; the others were stopped above, so report it after they all ended.
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  const r = result(endedBy);
  log.info({ ...r }, `feed stopped (${endedBy}): ${r.trades} trades, ${r.gaps} gap(s)`);
  return r;
}

export type { FeedGap } from './connectLoop.js';
