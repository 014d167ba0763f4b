// The poller against a real HTTP server and real PostgreSQL: what lands in news_items, and when.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atLeast } from '../helpers/logCapture.js';
import { pgTestDb, type TestDb } from '../helpers/pg.js';
import { FeedServer, plainXmlRoute, statusRoute, xmlRoute } from './feedServer.js';
import { ATOM_FEED, rssFeed, rssItem } from './fixtures.js';
import { HOUR, MIN, startPoller, T0 } from './harness.js';

interface NewsRow {
  feed: string;
  guid: string;
  link: string | null;
  title: string | null;
  summary: string | null;
  symbols: string[];
  published_at: Date | null;
}

let db: TestDb;
let pool: pg.Pool;
let server: FeedServer;

beforeAll(async () => {
  db = await pgTestDb('news_store');
  pool = db.pool({ max: 3 });
  server = await new FeedServer().start();
});

afterAll(async () => {
  await server?.close();
  await db?.close();
});

async function rows(feed: string): Promise<NewsRow[]> {
  const res = await pool.query<NewsRow>(
    'SELECT feed, guid, link, title, summary, symbols, published_at FROM news_items WHERE feed = $1 ORDER BY id',
    [feed],
  );
  return res.rows;
}

describe('news poller → news_items', () => {
  it('stores RSS and Atom items once, and re-polls with conditional GETs that cost a 304', async () => {
    let version = 1;
    let extra = '';
    server.routes.set(
      '/rss',
      xmlRoute(
        () => rssFeed(extra),
        () => ({ etag: `"v${version}"`, lastModified: new Date(T0 - HOUR + version * MIN).toUTCString() }),
      ),
    );
    server.routes.set('/atom', plainXmlRoute(ATOM_FEED, 'application/atom+xml'));
    const rssUrl = server.url('/rss');
    const atomUrl = server.url('/atom');
    const p = startPoller({ feeds: [rssUrl, atomUrl], db: pool });

    const first = await p.events.take(2);
    expect(first.map((e) => [e.url, e.outcome, e.itemsParsed, e.itemsStored])).toEqual([
      [rssUrl, 'ok', 4, 4],
      [atomUrl, 'ok', 2, 2],
    ]);
    const stored = await rows(rssUrl);
    expect(stored).toHaveLength(4);
    expect(stored[0]).toEqual({
      feed: rssUrl,
      guid: 'urn:news:1',
      link: 'https://news.example.com/a/1',
      title: 'Apple (AAPL) beats estimates; MSFT flat',
      summary: 'Shares of Apple rose 3% & more. Analysts’ view: $NVDA next.',
      symbols: ['AAPL', 'MSFT', 'NVDA'],
      published_at: new Date('2024-03-05T19:30:00Z'),
    });
    expect(stored.map((r) => r.symbols)).toEqual([['AAPL', 'MSFT', 'NVDA'], ['BRK.B'], ['TSLA'], []]);
    expect(stored[2]?.published_at).toBeNull();
    const atom = await rows(atomUrl);
    expect(atom.map((r) => [r.guid, r.symbols, r.published_at?.toISOString() ?? null])).toEqual([
      ['tag:atom.example.com,2024:1', ['NVDA'], '2024-03-05T14:31:00.000Z'],
      ['tag:atom.example.com,2024:2', ['MSFT'], null],
    ]);
    // The first request carried no validators; it did carry our User-Agent.
    const firstReq = server.requestsTo('/rss')[0]!;
    expect(firstReq.headers['if-none-match']).toBeUndefined();
    expect(firstReq.headers['user-agent']).toMatch(/^tick-collector\//);

    // Second round, 5 min later: the RSS feed answers 304 to our conditional GET; the Atom feed (no
    // validators) is fetched in full and its items are already there.
    await p.clock.advanceTo(first[0]!.nextPollAt);
    expect(first[0]!.nextPollAt).toBe(T0 + 5 * MIN);
    const second = await p.events.take(2);
    expect(second.map((e) => [e.outcome, e.itemsStored])).toEqual([
      ['not-modified', 0],
      ['ok', 0],
    ]);
    const conditional = server.requestsTo('/rss')[1]!;
    expect(conditional.headers['if-none-match']).toBe('"v1"');
    expect(conditional.headers['if-modified-since']).toBe(new Date(T0 - HOUR + MIN).toUTCString());

    // The feed gains one item: only that one is inserted.
    version = 2;
    extra = rssItem(9, 'New: MSFT up');
    await p.clock.advanceTo(second[0]!.nextPollAt);
    const third = await p.events.take(2);
    expect(third.map((e) => [e.outcome, e.itemsParsed, e.itemsStored])).toEqual([
      ['ok', 5, 1],
      ['ok', 2, 0],
    ]);
    expect(await rows(rssUrl)).toHaveLength(5);
    expect((await rows(rssUrl))[4]).toMatchObject({ guid: 'urn:news:9', symbols: ['MSFT'] });
    expect(await rows(atomUrl)).toHaveLength(2);

    expect(p.stats.feeds.map((f) => [f.state, f.itemsStored, f.polls, f.notModified])).toEqual([
      ['ok', 5, 3, 1],
      ['ok', 2, 3, 0],
    ]);
    expect(p.stats.totals).toMatchObject({
      polls: 6,
      itemsStored: 7,
      notModified: 1,
      failures: 0,
      dbErrors: 0,
    });
    await p.stop();
    expect(p.lines.filter((l) => atLeast(l, 'warn'))).toEqual([]);
  });

  it('keeps items in memory (bounded) while the INSERT fails, and writes them with a later poll', async () => {
    await pool.query('ALTER TABLE news_items RENAME TO news_items_away');
    server.routes.set(
      '/dbdown',
      xmlRoute(
        () => rssFeed(),
        () => ({ etag: '"e1"', lastModified: new Date(T0).toUTCString() }),
      ),
    );
    const url = server.url('/dbdown');
    const p = startPoller({ feeds: [url], db: pool, maxPendingItems: 3 });
    try {
      const e1 = await p.events.next();
      expect([e1.outcome, e1.itemsParsed, e1.itemsStored]).toEqual(['ok', 4, 0]);
      expect(p.stats.totals).toMatchObject({ dbErrors: 1, itemsPending: 3, itemsDropped: 1 });

      // Validators are not kept after a failed INSERT: the next poll fetches the body again.
      await p.clock.advanceTo(e1.nextPollAt);
      const e2 = await p.events.next();
      expect(e2.outcome).toBe('ok');
      expect(server.requestsTo('/dbdown')[1]!.headers['if-none-match']).toBeUndefined();
      expect(p.stats.totals).toMatchObject({ dbErrors: 2, itemsPending: 3 });
      // Two DB failures within the window: one warn line.
      expect(p.lines.filter((l) => atLeast(l, 'warn') && /storing items failed/.test(l.msg))).toHaveLength(1);

      // The database is back; the feed now answers 304 whatever we send: the pending items still go out.
      await pool.query('ALTER TABLE news_items_away RENAME TO news_items');
      server.routes.set('/dbdown', statusRoute(304));
      await p.clock.advanceTo(e2.nextPollAt);
      const e3 = await p.events.next();
      expect([e3.outcome, e3.itemsStored]).toEqual(['not-modified', 3]);
      expect(await rows(url)).toHaveLength(3);
      expect(p.stats.totals).toMatchObject({ itemsPending: 0, itemsStored: 3, dbErrors: 2 });
      expect(p.stats.feeds[0]?.itemsStored).toBe(3);
    } finally {
      await p.stop();
      await pool.query('ALTER TABLE IF EXISTS news_items_away RENAME TO news_items');
    }
  });
});
