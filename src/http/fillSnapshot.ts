// Maps every part's plain stats onto the HealthSnapshot that /health and /metrics serve.
// Read at scrape time only: nothing here runs per trade.
import type { ConditionMode, ConditionStats } from '../aggregate/conditions.js';
import type { FeedClock } from '../aggregate/feedClock.js';
import type { SecondAggregatorStats } from '../aggregate/secondAggregator.js';
import type { TickAggregatorStats } from '../aggregate/tickAggregator.js';
import { etDate, statusAt } from '../calendar/index.js';
import type { ClusterStats } from '../cluster/lockManager.js';
import { feedHealthy } from '../feed/health.js';
import type { FeedStats } from '../feed/stats.js';
import { feedStatsSnapshot, lagBuckets } from '../feed/stats.js';
import type { LedgerStats } from '../ledger/ledger.js';
import type { NewsStats } from '../news/index.js';
import type { EventLoopMonitor } from '../ops/eventLoop.js';
import type { PublisherStats } from '../publish/publisher.js';
import type { SinkStats } from '../store/sink/sink.js';
import { type HealthSnapshot, MAX_SYMBOL_SERIES, PUBLISH_OFF } from './snapshot.js';

export interface SnapshotSources {
  mode: string;
  startedAt: number;
  feed: FeedStats;
  second: SecondAggregatorStats;
  tick: TickAggregatorStats;
  conditions: { mode: ConditionMode; stats: ConditionStats };
  feedClock: FeedClock;
  sink: SinkStats;
  maxBufferRows: number;
  hardMaxRows: number;
  news: NewsStats | null;
  eventLoop: EventLoopMonitor;
  /** Whether the feed is expected to be streaming now (collecting). */
  collecting: () => boolean;
  /** FEED_DATA_STALE_MS: no frame this long while collecting = the feed is not healthy. */
  feedStaleMs: number;
  /** [symbol, receivedAt of its last trade], at most MAX_SYMBOL_SERIES of them. */
  lastTrades?: (max: number) => Array<[string, number]>;
  /** Replicas: the shards held and the collectors alive (null: the embedded database, one collector). */
  cluster?: () => ClusterStats | null;
  ledger?: () => LedgerStats;
  /** The NATS publisher (null: not publishing). */
  publish?: () => PublisherStats | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const age = (now: number, ms: number | null) => (ms === null ? null : Math.max(0, now - ms));

/** Counters that reset at each New York date ("today" on /health); zero at start-up. */
export class DailyBaseline {
  private day: string;
  private base = { reconnects: 0, gaps: 0 };

  constructor(startedAt: number) {
    this.day = etDate(startedAt);
  }

  read(now: number, feed: Pick<FeedStats, 'reconnects' | 'gaps'>): { reconnects: number; gaps: number } {
    const day = etDate(now);
    if (day !== this.day) {
      this.day = day;
      this.base = { reconnects: feed.reconnects, gaps: feed.gaps };
    }
    return { reconnects: feed.reconnects - this.base.reconnects, gaps: feed.gaps - this.base.gaps };
  }
}

export function createSnapshotter(src: SnapshotSources): (now: number) => HealthSnapshot {
  const daily = new DailyBaseline(src.startedAt);
  return (now) => {
    const market = statusAt(now);
    const feed = feedStatsSnapshot(src.feed);
    const today = daily.read(now, src.feed);
    const el = src.eventLoop.stats();
    const rowsWritten = Object.values(src.sink.rowsWritten).reduce((a, b) => a + b, 0);
    const cluster = src.cluster?.() ?? null;
    // A standby replica (no shard held) streams nothing by design.
    const standby = cluster !== null && cluster.held.length === 0;
    const feedDown = !standby && !feedHealthy(src.feed, now, src.feedStaleMs, src.collecting());
    const news = src.news?.totals;
    const feedsOk = src.news?.feeds.filter((f) => f.state === 'ok').length ?? 0;
    return {
      // Lost rows keep it degraded until a restart: nothing lost without a trace that stays.
      status:
        (!src.sink.connected && src.sink.lastError !== null) || src.sink.lostRows > 0 || feedDown
          ? 'degraded'
          : 'ok',
      mode: src.mode,
      uptimeS: Math.round((now - src.startedAt) / 1000),
      market: {
        open: market.open,
        reason: market.holiday ?? market.reason,
        nextOpen: iso(market.nextOpen),
        nextClose: iso(market.nextClose),
      },
      feed: {
        state: feed.state,
        connections: feed.connections.length,
        lastMessageAgeMs: age(now, src.feed.lastMessageAt),
        lastTradeAgeMs: age(now, src.feed.lastTradeAt),
        reconnectsToday: today.reconnects,
        gapsToday: today.gaps,
        reconnects: src.feed.reconnects,
        gaps: src.feed.gaps,
        lagP50Ms: finite(feed.lagP50Ms),
        lagP99Ms: finite(feed.lagP99Ms),
        lag: {
          ...lagBuckets(src.feed.lag),
          count: src.feed.lag.count,
          sumSeconds: src.feed.lag.sumMs / 1000,
        },
        trades: src.feed.trades,
        invalidMessages: { ...src.feed.invalid },
        subscribedSymbols: src.feed.subscribedSymbols,
        unsubscribedTrades: src.feed.unsubscribedTrades,
        backpressure: backpressure(src.feed, now),
      },
      conditions: {
        mode: src.conditions.mode,
        all: src.conditions.stats.all,
        volumeOnly: src.conditions.stats.volumeOnly,
        none: src.conditions.stats.none,
        partial: src.conditions.stats.partial,
        unknown: Object.fromEntries(src.conditions.stats.unknown),
      },
      aggregate: {
        lateTrades: src.second.lateMerged,
        lateDropped: src.second.lateDropped,
        backlogWaits: src.second.waitedForFeed,
        candles1s: src.second.candlesEmitted,
        candles100t: src.tick.candlesEmitted,
        openSymbols: src.second.openSymbols,
        feedClockOffsetMs: src.feedClock.lastOffset,
        quarantined: src.feedClock.stats.quarantined,
      },
      sink: {
        bufferedRows: src.sink.bufferedRows,
        maxBufferRows: src.maxBufferRows,
        spooledRows: src.sink.spooledRows,
        hardMaxRows: src.hardMaxRows,
        lostRows: src.sink.lostRows,
        fencedRows: src.sink.fencedRows,
        spoolErrors: src.sink.spoolErrors,
        lastSpoolError: src.sink.lastSpoolError,
        lastWriteAt: iso(src.sink.lastWriteAt),
        rowsWritten,
        retries: src.sink.retries,
        deadLettered: src.sink.deadLettered,
        connected: src.sink.connected,
        lastError: src.sink.lastError,
      },
      news: {
        enabled: src.news !== null,
        feedsOk,
        feedsFailing: (src.news?.feeds.length ?? 0) - feedsOk,
        items: news?.itemsStored ?? 0,
      },
      eventLoop: { delayP99Ms: el.delayP99Ms, maxDelayMs: el.maxDelayMs },
      symbolLastTradeAt: Object.fromEntries(
        (src.lastTrades?.(MAX_SYMBOL_SERIES) ?? []).map(([symbol, at]) => [
          symbol,
          new Date(at).toISOString(),
        ]),
      ),
      ...(src.ledger
        ? (() => {
            const l = src.ledger();
            return {
              ledger: {
                confirmedTo: iso(l.confirmedTo),
                confirmedLagMs: l.confirmedTo === null ? null : Math.max(0, now - l.confirmedTo),
                unsettledEpochs: l.unsettledEpochs,
                holes: l.holes,
                writes: l.writes,
                writeErrors: l.writeErrors,
                derivations: l.derivations,
              },
            };
          })()
        : {}),
      publish: publishSnapshot(src.publish?.() ?? null),
      ...(cluster
        ? {
            cluster: {
              id: cluster.id,
              shards: cluster.shards,
              held: cluster.held,
              lockSession: cluster.lockPid !== null,
              collectors: cluster.peers.map((p) => ({
                id: p.id,
                host: p.host,
                pid: p.pid,
                shards: p.shards.length,
                heartbeatAgeMs: p.heartbeatAgeMs,
                self: p.self,
              })),
              handedOver: cluster.released,
              lost: cluster.lost,
              fenced: cluster.fenced,
            },
          }
        : {}),
    };
  };
}

function publishSnapshot(p: PublisherStats | null): HealthSnapshot['publish'] {
  if (!p) return { ...PUBLISH_OFF };
  return {
    state: p.state,
    stream: p.stream,
    published: p.published,
    republished: p.republished,
    duplicates: p.duplicates,
    failed: p.failed,
    pending: p.pending,
    lastPublishedAt: iso(p.lastPublishedAt),
    lastError: p.lastError,
  };
}

function backpressure(f: FeedStats, now: number): HealthSnapshot['feed']['backpressure'] {
  return {
    held: f.heldSince !== null,
    sinkHolds: f.sinkHolds,
    sinkHeldMs: f.sinkHeldMs + (f.heldSince === null ? 0 : Math.max(0, now - f.heldSince)),
    loopPauses: f.loopPauses,
    loopPausedMs: Math.round(f.loopPausedMs),
  };
}

function finite(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : v;
}
