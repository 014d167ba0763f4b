// The RSS/Atom news poller (runNewsPoller).
// One loop per host (so a host never sees two of our requests at once), each polling its feeds when due.
// Quiet by design: remote failures log at debug, a one-line summary at info at most hourly, a feed gone for a
// day once at warn; only our own trouble (DB, bugs) warns, rate-limited.
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rateLimit.js';
import { markFailed, markOk, newNewsFeedStats } from './feedHealth.js';
import { FeedParser } from './feedParser.js';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_USER_AGENT,
  type FetchResult,
  fetchFeed,
  type Validators,
} from './fetchFeed.js';
import type { NewsItem } from './parseFeed.js';
import { DEAD_POLL_MS, HOUR_MS, parseRetryAfter, type Random } from './schedule.js';
import { createNewsStats, type NewsFeedStats, type NewsStats, summaryLine } from './stats.js';
import { DEFAULT_MAX_PENDING, type NewsDb, NewsStore } from './store.js';

export interface NewsPollerOptions {
  feeds: string[];
  symbols: string[];
  intervalMs: number;
  timeoutMs: number;
  /** A pg Pool (or anything with its `query`). */
  db: NewsDb;
  clock: Clock;
  signal: AbortSignal;
  log: Logger;
  random?: Random;
  fetchImpl?: typeof fetch;
  userAgent?: string;
  /** Bodies beyond this are refused unparsed (xml2js parses on the event loop). Default 5 MB. */
  maxBodyBytes?: number;
  /** Items kept in memory while the database refuses them. Default 5000. */
  maxPendingItems?: number;
  /** Pass one in to read the counters while the poller runs (the metrics layer does). */
  stats?: NewsStats;
  /** Called after every poll, once its outcome is recorded (tests wait on it). */
  onPoll?: (event: PollEvent) => void;
}

export interface PollEvent {
  url: string;
  outcome: 'ok' | 'not-modified' | 'failed';
  /** Why it failed ("404", "timeout", "malformed", …); null on success. */
  reason: string | null;
  itemsParsed: number;
  itemsStored: number;
  state: NewsFeedStats['state'];
  nextPollAt: number;
}

interface Feed {
  stats: NewsFeedStats;
  validators: Validators;
}

const SUMMARY_EVERY_MS = HOUR_MS;
const WARN_WINDOW_MS = 15 * 60_000;

/** Runs until `signal` aborts; never rejects for a feed's or the database's sake. */
export async function runNewsPoller(opts: NewsPollerOptions): Promise<void> {
  const poller = new Poller(opts);
  await poller.run();
}

class Poller {
  private readonly log: Logger;
  private readonly limited: RateLimitedLog;
  private readonly stats: NewsStats;
  private readonly store: NewsStore;
  private readonly parser: FeedParser;
  private readonly random: Random;
  private readonly feeds: Feed[];
  private lastSummaryAt: number | null = null;

  constructor(private readonly opts: NewsPollerOptions) {
    this.log = opts.log.child({ component: 'news' });
    this.limited = new RateLimitedLog(this.log, { windowMs: WARN_WINDOW_MS, now: () => opts.clock.now() });
    this.stats = opts.stats ?? createNewsStats();
    this.store = new NewsStore(opts.db, opts.maxPendingItems ?? DEFAULT_MAX_PENDING);
    this.parser = new FeedParser(opts.symbols);
    this.random = opts.random ?? Math.random;
    const now = opts.clock.now();
    this.feeds = [...new Set(opts.feeds)].map((url) => ({
      stats: newNewsFeedStats(url, now),
      validators: { etag: null, lastModified: null },
    }));
    this.stats.feeds = this.feeds.map((f) => f.stats);
  }

  async run(): Promise<void> {
    const byHost = new Map<string, Feed[]>();
    for (const f of this.feeds) byHost.set(f.stats.host, [...(byHost.get(f.stats.host) ?? []), f]);
    this.log.debug({ feeds: this.feeds.length, hosts: byHost.size }, 'news poller started');
    try {
      // With no feeds, still run until stopped: main treats a part that returns as a part that died.
      if (byHost.size === 0) await abortedPromise(this.opts.signal);
      await Promise.all([...byHost.values()].map((feeds) => this.hostLoop(feeds)));
    } finally {
      if (this.store.pendingCount > 0) {
        this.log.warn(
          { pending: this.store.pendingCount },
          'news: items not stored at shutdown (they are fetched again at the next start)',
        );
      }
      this.limited.stop();
      await this.parser.close();
    }
  }

  private async hostLoop(feeds: Feed[]): Promise<void> {
    const { clock, signal } = this.opts;
    while (!signal.aborted) {
      const next = feeds.reduce((a, b) => (b.stats.nextPollAt < a.stats.nextPollAt ? b : a));
      const wait = next.stats.nextPollAt - clock.now();
      if (wait > 0) {
        // Re-pick after waking: timers fire early or late, and the clock may jump.
        await clock.sleep(wait, signal);
        continue;
      }
      await this.pollGuarded(next);
    }
  }

  private async pollGuarded(feed: Feed): Promise<void> {
    try {
      await this.poll(feed);
    } catch (err) {
      // A bug here must not spin the loop: count it as the feed's failure so it backs off.
      this.stats.totals.unusualErrors++;
      this.limited.event(
        'news.bug',
        'warn',
        { err, feed: feed.stats.label },
        'news: unexpected error while polling',
      );
      this.recordFailure(feed, 'internal', null);
      this.emit(feed, 'failed', 'internal', 0, 0);
    }
  }

  private async poll(feed: Feed): Promise<void> {
    const { opts, stats } = this;
    const s = feed.stats;
    const result: FetchResult = await fetchFeed(s.url, {
      validators: feed.validators,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      userAgent: opts.userAgent ?? DEFAULT_USER_AGENT,
      maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      fetchImpl: opts.fetchImpl ?? fetch,
    });
    if (result.kind === 'aborted') return;
    s.polls++;
    stats.totals.polls++;

    if (result.kind === 'not-modified') {
      s.notModified++;
      stats.totals.notModified++;
      // Items a failed INSERT left behind still go out with this poll.
      const stored = await this.storeItems(s.url, []);
      this.recordSuccess(feed);
      this.log.debug({ feed: s.label }, 'news feed not modified');
      this.emit(feed, 'not-modified', null, 0, stored.stored);
      return;
    }

    if (result.kind === 'error') {
      const retryAfterMs =
        result.status === 429 || result.status === 503
          ? parseRetryAfter(result.retryAfter, opts.clock.now())
          : null;
      if (!result.expected) {
        stats.totals.unusualErrors++;
        this.limited.event(
          `news.unusual:${s.url}`,
          'warn',
          { err: result.error, feed: s.label },
          `news: unusual error polling ${s.label}`,
        );
      }
      this.recordFailure(feed, result.reason, retryAfterMs);
      this.log.debug(
        { feed: s.label, reason: result.reason, failures: s.consecutiveFailures, nextPollAt: s.nextPollAt },
        'news feed poll failed',
      );
      this.emit(feed, 'failed', result.reason, 0, 0);
      return;
    }

    let items: NewsItem[];
    try {
      const parsed = await this.parser.parse(result.body);
      items = parsed.items;
      // Items with nothing to open or name them by: not news, counted.
      s.itemsSkipped += parsed.skipped;
      this.stats.totals.itemsSkipped += parsed.skipped;
    } catch (err) {
      this.recordFailure(feed, 'malformed', null);
      this.log.debug({ feed: s.label, err: String(err).slice(0, 200) }, 'news feed unreadable');
      this.emit(feed, 'failed', 'malformed', 0, 0);
      return;
    }

    const stored = await this.storeItems(s.url, items);
    // Remember the validators only once the items are safely stored: after a failed INSERT the next poll
    // must fetch the body again rather than get a 304 for items we never wrote.
    if (stored.ok) feed.validators = result.validators;
    this.recordSuccess(feed);
    this.log.debug({ feed: s.label, items: items.length, stored: stored.stored }, 'news feed polled');
    this.emit(feed, 'ok', null, items.length, stored.stored);
  }

  private async storeItems(
    url: string,
    items: Parameters<NewsStore['add']>[1],
  ): Promise<{ ok: boolean; stored: number }> {
    const { totals } = this.stats;
    this.store.add(url, items);
    const res = await this.store.flush();
    const dropped = this.store.takeDropped();
    if (dropped > 0) {
      totals.itemsDropped += dropped;
      this.limited.event(
        'news.dropped',
        'warn',
        { dropped },
        'news: pending buffer full, oldest items dropped',
      );
    }
    totals.itemsPending = this.store.pendingCount;
    if (!res.ok) {
      totals.dbErrors++;
      this.limited.event(
        'news.db',
        'warn',
        { err: res.error, pending: this.store.pendingCount },
        'news: storing items failed; kept in memory for the next poll',
      );
      return { ok: false, stored: 0 };
    }
    for (const [feedUrl, n] of res.insertedByFeed) {
      const f = this.feeds.find((x) => x.stats.url === feedUrl);
      if (f) f.stats.itemsStored += n;
      totals.itemsStored += n;
    }
    return { ok: true, stored: res.insertedByFeed.get(url) ?? 0 };
  }

  private recordSuccess(feed: Feed): void {
    const s = feed.stats;
    const now = this.opts.clock.now();
    const revivedAfter = markOk(s, now, this.opts.intervalMs, this.random);
    if (revivedAfter !== null) {
      this.log.info({ feed: s.label }, `news: feed ${s.label} is back after ${hours(revivedAfter)} h`);
    }
    this.stats.totals.ok++;
    this.maybeSummary(now);
  }

  private recordFailure(feed: Feed, reason: string, retryAfterMs: number | null): void {
    const s = feed.stats;
    const now = this.opts.clock.now();
    if (markFailed(s, now, reason, retryAfterMs, this.opts.intervalMs, this.random)) {
      this.log.warn(
        { feed: s.label, reason, since: new Date(s.failingSince ?? now).toISOString() },
        `news: feed ${s.label} has failed for ${hours(now - (s.failingSince ?? now))} h (${reason}); ` +
          `polling it every ${DEAD_POLL_MS / HOUR_MS} h from now on`,
      );
    }
    this.stats.totals.failures++;
    this.maybeSummary(now);
  }

  // After the first full round, then at most hourly.
  private maybeSummary(now: number): void {
    if (this.lastSummaryAt !== null && now - this.lastSummaryAt < SUMMARY_EVERY_MS) return;
    if (this.feeds.some((f) => f.stats.state === 'pending')) return;
    this.lastSummaryAt = now;
    const count = (state: string) => this.feeds.filter((f) => f.stats.state === state).length;
    this.log.info(
      { ok: count('ok'), failing: count('failing'), dead: count('dead'), summary: true },
      summaryLine(this.stats.feeds),
    );
  }

  private emit(
    feed: Feed,
    outcome: PollEvent['outcome'],
    reason: string | null,
    parsed: number,
    stored: number,
  ) {
    this.limited.flush();
    const s = feed.stats;
    this.opts.onPoll?.({
      url: s.url,
      outcome,
      reason,
      itemsParsed: parsed,
      itemsStored: stored,
      state: s.state,
      nextPollAt: s.nextPollAt,
    });
  }
}

function abortedPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function hours(ms: number): number {
  return Math.round(ms / HOUR_MS);
}
