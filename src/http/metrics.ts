// Prometheus metrics read off the HealthSnapshot at scrape time (createMetrics).
// The parts keep plain counters and never import prom-client. One snapshot per render, shared by every
// metric's collect(). A render is not free (the process metrics read /proc): ~400 scrapes/s once took a whole
// core from the trade path, so the rendered text is kept for cacheMs and scrapes in between (or during a
// render) share it.
// Process metrics come from collectDefaultMetrics under their standard, unprefixed names (process_*, nodejs_*).
// Naming rules (docs/ARCHITECTURE.md, "Health, metrics, logs"): base units (seconds, bytes), counters end in
// _total and never go down while the process runs; `promtool check metrics` runs on them in a test.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { VERSION } from '../version.js';
import type { HealthSnapshot } from './snapshot.js';

const P = 'tick_collector_';

type Read = (s: HealthSnapshot) => number | boolean | null;

// Unlabelled gauges: a null (unknown) value is exported as NaN rather than a misleading 0.
const GAUGES: Array<[string, string, Read]> = [
  ['publish_pending_rows', 'Candle rows committed and not yet on the NATS stream.', (s) => s.publish.pending],
  [
    'publish_up',
    'Whether publishing to NATS works now (1) or not (0: down, connecting; off without NATS_URL).',
    (s) =>
      s.publish.state === 'publishing' || s.publish.state === 'catching-up' || s.publish.state === 'standby'
        ? 1
        : 0,
  ],
  ['degraded', '1 when /health reports status degraded.', (s) => s.status === 'degraded'],
  ['uptime_seconds', 'Seconds since the process started.', (s) => s.uptimeS],
  ['market_open', '1 while the NYSE regular session is open.', (s) => s.market.open],
  ['feed_connections', 'Open feed WebSocket connections.', (s) => s.feed.connections],
  ['feed_subscribed_symbols', 'Symbols currently subscribed.', (s) => s.feed.subscribedSymbols],
  [
    'feed_last_message_age_seconds',
    'Age of the last frame from the feed (NaN: none yet).',
    (s) => seconds(s.feed.lastMessageAgeMs),
  ],
  [
    'feed_last_trade_age_seconds',
    'Age of the last valid trade (NaN: none yet).',
    (s) => seconds(s.feed.lastTradeAgeMs),
  ],
  ['feed_held', '1 while reading is held because the sink is behind.', (s) => s.feed.backpressure.held],
  ['open_symbols', 'Symbols with an open candle in the aggregators.', (s) => s.aggregate.openSymbols],
  [
    'feed_clock_offset_seconds',
    "The feed's clock minus the collector's, from the last trade (negative: a delayed feed; NaN: none yet).",
    (s) => (s.aggregate.feedClockOffsetMs === null ? null : s.aggregate.feedClockOffsetMs / 1000),
  ],
  ['sink_buffer_rows', 'Rows waiting in memory for the database.', (s) => s.sink.bufferedRows],
  ['sink_buffer_max_rows', 'Buffer bound; beyond it rows spool to disk.', (s) => s.sink.maxBufferRows],
  ['sink_spooled_rows', 'Rows spooled to disk awaiting the database.', (s) => s.sink.spooledRows],
  [
    'sink_buffer_hard_max_rows',
    'Memory cap while the spool cannot be written; beyond it rows are lost.',
    (s) => s.sink.hardMaxRows,
  ],
  ['sink_connected', '1 while the last database round trip succeeded.', (s) => s.sink.connected],
  [
    'sink_last_write_timestamp_seconds',
    'Unix time of the last successful write (NaN: none yet).',
    (s) => (s.sink.lastWriteAt === null ? null : Date.parse(s.sink.lastWriteAt) / 1000),
  ],
  [
    'ledger_confirmed_lag_seconds',
    "How far behind now the least advanced connection's coverage confirmed by the database is.",
    (s) => (s.ledger?.confirmedLagMs == null ? null : s.ledger.confirmedLagMs / 1000),
  ],
  [
    'ledger_unsettled_checkpoints',
    'Checkpoints whose candle rows still wait for the database (coverage cannot pass them).',
    (s) => s.ledger?.unsettledEpochs ?? null,
  ],
  ['news_enabled', '1 when RSS polling is on.', (s) => s.news.enabled],
  ['news_feeds_ok', 'RSS feeds whose last poll succeeded.', (s) => s.news.feedsOk],
  ['news_feeds_failing', 'RSS feeds whose last poll failed.', (s) => s.news.feedsFailing],
  [
    'event_loop_delay_p99_seconds',
    'Event-loop delay p99 over the last window.',
    (s) => seconds(s.eventLoop.delayP99Ms),
  ],
  [
    'event_loop_delay_max_seconds',
    'Event-loop delay max over the last window.',
    (s) => seconds(s.eventLoop.maxDelayMs),
  ],
];

// Counters mirror totals since the process started; only a restart resets them (rate()/increase() handle it).
const COUNTERS: Array<[string, string, (s: HealthSnapshot) => number]> = [
  ['trades_total', 'Valid trades received.', (s) => s.feed.trades],
  [
    'ledger_holes_total',
    'Holes cut in coverage: rows refused, dropped or lost, trades a 100-tick series could not hold.',
    (s) => s.ledger?.holes ?? 0,
  ],
  ['ledger_write_errors_total', 'Coverage writes that failed (retried).', (s) => s.ledger?.writeErrors ?? 0],
  ['feed_reconnects_total', 'Feed reconnects.', (s) => s.feed.reconnects],
  ['feed_gaps_total', 'Feed gaps recorded.', (s) => s.feed.gaps],
  [
    'feed_unsubscribed_trades_total',
    'Trades for symbols the socket never subscribed to, dropped.',
    (s) => s.feed.unsubscribedTrades,
  ],
  ['late_trades_total', 'Late trades merged into written candles.', (s) => s.aggregate.lateTrades],
  ['late_trades_dropped_total', 'Trades too late to amend, dropped.', (s) => s.aggregate.lateDropped],
  [
    'candle_backlog_waits_total',
    'Flushes at which a due 1-second candle waited for its trades: the collector was reading a backlog.',
    (s) => s.aggregate.backlogWaits,
  ],
  [
    'quarantined_trades_total',
    "Trades kept out of every candle for a timestamp far from the feed's clock.",
    (s) => s.aggregate.quarantined,
  ],
  ['sink_rows_written_total', 'Rows written to the database.', (s) => s.sink.rowsWritten],
  ['sink_retries_total', 'Database write retries.', (s) => s.sink.retries],
  ['sink_dead_lettered_rows_total', 'Rows set aside after a data or code error.', (s) => s.sink.deadLettered],
  [
    'sink_lost_rows_total',
    'Rows neither written, dead-lettered nor spooled (spool unwritable at the memory cap).',
    (s) => s.sink.lostRows,
  ],
  [
    'sink_fenced_rows_total',
    'Candle rows the replica write fence refused (a peer holds the shard): not stored, left uncovered.',
    (s) => s.sink.fencedRows,
  ],
  [
    'sink_spool_errors_total',
    'Spool file writes that failed (disk full, I/O error).',
    (s) => s.sink.spoolErrors,
  ],
  ['news_items_total', 'News items stored.', (s) => s.news.items],
  [
    'publish_messages_total',
    'Messages stored by NATS JetStream (candles and gaps).',
    (s) => s.publish.published,
  ],
  [
    'publish_republished_messages_total',
    'Of those, published by a catch-up: committed while NATS was down or slow.',
    (s) => s.publish.republished,
  ],
  [
    'publish_duplicate_messages_total',
    'Messages JetStream already held (a retry, a peer around a handover): not stored again.',
    (s) => s.publish.duplicates,
  ],
  ['publish_failed_total', 'Publishes that failed (NATS down, slow, no JetStream).', (s) => s.publish.failed],
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
  new Counter({
    name: P + 'trades_by_update_total',
    help: 'Classified trades by what their conditions let them update (all, volume_only, none, partial).',
    labelNames: ['updates'],
    registers,
    collect() {
      if (!current) return;
      this.reset();
      const c = current.conditions;
      this.inc({ updates: 'all' }, counterValue(c.all));
      this.inc({ updates: 'volume_only' }, counterValue(c.volumeOnly));
      this.inc({ updates: 'none' }, counterValue(c.none));
      this.inc({ updates: 'partial' }, counterValue(c.partial));
    },
  });
  new Counter({
    name: P + 'unknown_condition_trades_total',
    help: 'Trades carrying a condition code with no rule (they update every field), by code.',
    labelNames: ['code'],
    registers,
    collect() {
      if (!current) return;
      this.reset();
      for (const [code, n] of Object.entries(current.conditions.unknown)) this.inc({ code }, counterValue(n));
    },
  });
  new Gauge({
    name: P + 'build_info',
    help: 'Always 1; the label carries the version.',
    labelNames: ['version'],
    registers,
    collect() {
      this.set({ version: VERSION }, 1);
    },
  });
  new Gauge({
    name: P + 'symbol_last_trade_timestamp_seconds',
    help: 'Unix time the last trade of each symbol was received (alert on one symbol going quiet).',
    labelNames: ['symbol'],
    registers,
    collect() {
      if (!current) return;
      this.reset();
      for (const [symbol, at] of Object.entries(current.symbolLastTradeAt)) {
        this.set({ symbol }, Date.parse(at) / 1000);
      }
    },
  });

  let cached: { body: string; at: number } | null = null;
  let rendering: Promise<string> | null = null;
  const render = async (snapshot: () => HealthSnapshot): Promise<string> => {
    current = snapshot();
    const text = await registry.metrics();
    const body = `${text}${text.endsWith('\n') ? '' : '\n'}${lagHistogram(current.feed.lag)}`;
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

/**
 * The feed lag histogram in the text format: the feed keeps its own fixed buckets (no prom-client on the
 * trade path), so the series are written from the snapshot's cumulative counts.
 */
function lagHistogram(h: HealthSnapshot['feed']['lag']): string {
  const name = `${P}feed_lag_seconds`;
  const lines = [
    `# HELP ${name} Receipt time minus the trade timestamp.`,
    `# TYPE ${name} histogram`,
    ...h.le.map((le, i) => `${name}_bucket{le="${le}"} ${h.cumulative[i] ?? 0}`),
    `${name}_bucket{le="+Inf"} ${h.count}`,
    `${name}_sum ${h.sumSeconds}`,
    `${name}_count ${h.count}`,
  ];
  return `${lines.join('\n')}\n`;
}

function seconds(ms: number | null): number | null {
  return ms === null ? null : ms / 1000;
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
