// Prometheus metrics read off the HealthSnapshot at scrape time: the parts keep plain counters and never
// import prom-client. One snapshot per render, shared by every metric's collect(). A render is not free
// (the process metrics read /proc): ~400 scrapes/s once took a whole core from the trade path, so the
// rendered text is kept for cacheMs and scrapes in between (or during a render) share it.
// Process metrics come from collectDefaultMetrics under their standard, unprefixed names (process_*, nodejs_*).
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { HealthSnapshot } from './snapshot.js';

const P = 'tick_collector_';

type Read = (s: HealthSnapshot) => number | boolean | null;

// Unlabelled gauges: a null (unknown) value is exported as NaN rather than a misleading 0.
const GAUGES: Array<[string, string, Read]> = [
  ['degraded', '1 when /health reports status degraded.', (s) => s.status === 'degraded'],
  ['uptime_seconds', 'Seconds since the process started.', (s) => s.uptimeS],
  ['market_open', '1 while the NYSE regular session is open.', (s) => s.market.open],
  ['feed_connections', 'Open feed WebSocket connections.', (s) => s.feed.connections],
  ['feed_subscribed_symbols', 'Symbols currently subscribed.', (s) => s.feed.subscribedSymbols],
  [
    'feed_last_message_age_ms',
    'Age of the last frame from the feed (NaN: none yet).',
    (s) => s.feed.lastMessageAgeMs,
  ],
  ['feed_last_trade_age_ms', 'Age of the last valid trade (NaN: none yet).', (s) => s.feed.lastTradeAgeMs],
  ['feed_held', '1 while reading is held because the sink is behind.', (s) => s.feed.backpressure.held],
  ['open_symbols', 'Symbols with an open candle in the aggregators.', (s) => s.aggregate.openSymbols],
  ['sink_buffer_rows', 'Rows waiting in memory for the database.', (s) => s.sink.bufferedRows],
  ['sink_buffer_max_rows', 'Buffer bound; beyond it rows spool to disk.', (s) => s.sink.maxBufferRows],
  ['sink_spooled_rows', 'Rows spooled to disk awaiting the database.', (s) => s.sink.spooledRows],
  ['sink_connected', '1 while the last database round trip succeeded.', (s) => s.sink.connected],
  [
    'sink_last_write_timestamp_seconds',
    'Unix time of the last successful write (NaN: none yet).',
    (s) => (s.sink.lastWriteAt === null ? null : Date.parse(s.sink.lastWriteAt) / 1000),
  ],
  ['news_enabled', '1 when RSS polling is on.', (s) => s.news.enabled],
  ['news_feeds_ok', 'RSS feeds whose last poll succeeded.', (s) => s.news.feedsOk],
  ['news_feeds_failing', 'RSS feeds whose last poll failed.', (s) => s.news.feedsFailing],
  ['event_loop_delay_p99_ms', 'Event-loop delay p99 over the last window.', (s) => s.eventLoop.delayP99Ms],
  ['event_loop_delay_max_ms', 'Event-loop delay max over the last window.', (s) => s.eventLoop.maxDelayMs],
];

// Counters mirror cumulative numbers from the snapshot; a drop (daily reset, restart) reads as a counter reset,
// which rate()/increase() handle.
const COUNTERS: Array<[string, string, (s: HealthSnapshot) => number]> = [
  ['trades_total', 'Valid trades received.', (s) => s.feed.trades],
  ['reconnects_total', 'Feed reconnects (since the session date began).', (s) => s.feed.reconnectsToday],
  ['feed_gaps_total', 'Feed gaps recorded (since the session date began).', (s) => s.feed.gapsToday],
  [
    'feed_unsubscribed_trades_total',
    'Trades for symbols the socket never subscribed to, dropped.',
    (s) => s.feed.unsubscribedTrades,
  ],
  ['late_trades_total', 'Late trades merged into written candles.', (s) => s.aggregate.lateTrades],
  ['late_trades_dropped_total', 'Trades too late to amend, dropped.', (s) => s.aggregate.lateDropped],
  ['sink_rows_written_total', 'Rows written to the database.', (s) => s.sink.rowsWritten],
  ['sink_retries_total', 'Database write retries.', (s) => s.sink.retries],
  ['sink_dead_lettered_rows_total', 'Rows set aside after a data or code error.', (s) => s.sink.deadLettered],
  ['news_items_total', 'News items stored.', (s) => s.news.items],
];

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  /**
   * Prometheus text, rendered from snapshot() at most once per cacheMs. Throws if snapshot() or a
   * collector does (the caller answers 500); a failure is not cached.
   */
  scrape(snapshot: () => HealthSnapshot): Promise<string>;
}

export interface MetricsOptions {
  /** How long a rendered scrape is served again. Default 1000 ms (Prometheus scrapes every 15 s or more). */
  cacheMs?: number;
  /** Milliseconds, for the cache's age. Default Date.now. */
  now?: () => number;
}

export const METRICS_CACHE_MS = 1_000;

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const cacheMs = opts.cacheMs ?? METRICS_CACHE_MS;
  const now = opts.now ?? Date.now;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let current: HealthSnapshot | undefined;
  const registers = [registry];

  for (const [name, help, read] of GAUGES) {
    new Gauge({
      name: P + name,
      help,
      registers,
      collect() {
        if (current) this.set(toNumber(read(current)));
      },
    });
  }
  for (const [name, help, read] of COUNTERS) {
    new Counter({
      name: P + name,
      help,
      registers,
      collect() {
        if (!current) return;
        this.reset();
        this.inc(counterValue(read(current)));
      },
    });
  }

  new Gauge({
    name: P + 'info',
    help: 'Always 1; the label says how the collector runs.',
    labelNames: ['mode'],
    registers,
    collect() {
      if (!current) return;
      this.reset();
      this.set({ mode: current.mode }, 1);
    },
  });
  new Counter({
    name: P + 'invalid_messages_total',
    help: 'Invalid feed messages, by reason.',
    labelNames: ['reason'],
    registers,
    collect() {
      if (!current) return;
      this.reset();
      for (const [reason, n] of Object.entries(current.feed.invalidMessages)) {
        this.inc({ reason }, counterValue(n));
      }
    },
  });
  new Counter({
    name: P + 'candles_written_total',
    help: 'Candles emitted to the sink, by kind (amendments included).',
    labelNames: ['kind'],
    registers,
    collect() {
      if (!current) return;
      this.reset();
      this.inc({ kind: '1s' }, counterValue(current.aggregate.candles1s));
      this.inc({ kind: '100t' }, counterValue(current.aggregate.candles100t));
    },
  });
  new Counter({
    name: P + 'feed_backpressure_pauses_total',
    help: 'Times reading paused: a turn over its work budget (loop) or the sink behind (sink).',
    labelNames: ['cause'],
    registers,
    collect() {
      if (!current) return;
      this.reset();
      this.inc({ cause: 'loop' }, counterValue(current.feed.backpressure.loopPauses));
      this.inc({ cause: 'sink' }, counterValue(current.feed.backpressure.sinkHolds));
    },
  });
  new Counter({
    name: P + 'feed_backpressure_seconds_total',
    help: 'Seconds reading was paused, by cause: what backpressure cost (the trades waited upstream).',
    labelNames: ['cause'],
    registers,
    collect() {
      if (!current) return;
      this.reset();
      this.inc({ cause: 'loop' }, counterValue(current.feed.backpressure.loopPausedMs / 1000));
      this.inc({ cause: 'sink' }, counterValue(current.feed.backpressure.sinkHeldMs / 1000));
    },
  });
  new Gauge({
    name: P + 'feed_lag_ms',
    help: 'Receipt time minus the trade timestamp, by quantile.',
    labelNames: ['quantile'],
    registers,
    collect() {
      if (!current) return;
      this.reset();
      // Unknown quantiles are left out: an absent series is clearer than NaN with a label.
      if (current.feed.lagP50Ms !== null) this.set({ quantile: '0.5' }, current.feed.lagP50Ms);
      if (current.feed.lagP99Ms !== null) this.set({ quantile: '0.99' }, current.feed.lagP99Ms);
    },
  });

  let cached: { body: string; at: number } | null = null;
  let rendering: Promise<string> | null = null;
  const render = async (snapshot: () => HealthSnapshot): Promise<string> => {
    current = snapshot();
    const body = await registry.metrics();
    cached = { body, at: now() };
    return body;
  };
  return {
    registry,
    contentType: registry.contentType,
    scrape(snapshot) {
      if (cached && now() - cached.at < cacheMs) return Promise.resolve(cached.body);
      rendering ??= render(snapshot).finally(() => {
        rendering = null;
      });
      return rendering;
    },
  };
}

function toNumber(v: number | boolean | null): number {
  if (v === null) return Number.NaN;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** Counters accept only finite values ≥ 0; anything else means "unknown", exported as 0. */
function counterValue(v: number): number {
  return Number.isFinite(v) && v > 0 ? v : 0;
}
