// The feed: the symbols split into chunks of maxSymbolsPerConnection, one connect loop (one socket) per
// chunk, all stopped together at the deadline (the close) or on abort, whatever state they are in.
// Returns when every loop has returned; it never retries past the deadline. Takes plain options: main
// maps the configuration onto them.
import type { Trade } from '../aggregate/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rateLimit.js';
import { type FeedGap, runChunkLoop } from './connectLoop.js';
import { type ConnectionStats, createFeedStats, type FeedStats, overallState } from './stats.js';

export interface FeedOptions {
  /** Endpoint without the token, e.g. wss://ws.eodhistoricaldata.com/ws/us. */
  url: string;
  token: string;
  symbols: string[];
  maxSymbolsPerConnection: number;
  heartbeatIntervalMs: number;
  dataStaleMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  authFailureBackoffMs: number;
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
  /** Streaming this long resets the reconnect backoff. Default 60 s. */
  stableResetMs?: number;
  /**
   * These symbols are one shard of a larger feed (replicas: one run per shard held, sharing `stats`): gaps
   * name their symbols even with one chunk, and an aborted run takes its connections off `stats`.
   */
  shardOfMany?: boolean;
  /** Arrival order shared by concurrent runs (default: a fresh counter from stats.messages). */
  seq?: { next: number };
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
  const rl = new RateLimitedLog(log, { now: () => clock.now() });
  rl.startTimer();

  // One stop signal for every loop: the caller's abort or the deadline, whichever comes first.
  const stop = new AbortController();
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
  const conns: ConnectionStats[] = chunks.map((c) => ({
    symbols: c,
    state: 'idle',
    connects: 0,
    subscribedAt: null,
    lastTradeAt: null,
  }));
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

  // Arrival order must keep growing across runs (a session restarted the same second still breaks ties right).
  const seq = opts.seq ?? { next: stats.messages + 1 };
  const rejectionsLogged = new Set<string>();
  let settled: PromiseSettledResult<void>[];
  try {
    settled = await Promise.allSettled(
      chunks.map((chunk, i) =>
        runChunkLoop({
          url: full.href,
          symbols: chunk,
          gapSymbol: chunks.length === 1 && !opts.shardOfMany ? '*' : chunk.join(','),
          heartbeatIntervalMs: opts.heartbeatIntervalMs,
          dataStaleMs: opts.dataStaleMs,
          reconnectBaseMs: opts.reconnectBaseMs,
          reconnectMaxMs: opts.reconnectMaxMs,
          authFailureBackoffMs: opts.authFailureBackoffMs,
          stableResetMs: opts.stableResetMs ?? 60_000,
          deadline: opts.deadline,
          signal: stop.signal,
          clock,
          log,
          rl,
          stats,
          conn: conns[i]!,
          seq,
          rejectionsLogged,
          onTrade: opts.onTrade,
          onGap: opts.onGap,
          inSession: opts.inSession ?? (() => true),
          random: opts.random ?? Math.random,
        }),
      ),
    );
  } finally {
    stop.abort(); // ends the deadline sleep if the loops ended some other way
    opts.signal.removeEventListener('abort', onAbort);
    rl.stop();
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
