import { describe, expect, it } from 'vitest';
import { parseFeedDate } from '../../src/news/dates.js';
import { htmlToText } from '../../src/news/htmlText.js';
import { parseFeed, parseFeedItems } from '../../src/news/parseFeed.js';
import { createSymbolMatcher } from '../../src/news/symbols.js';
import { ATOM_FEED, BROKEN_XML, rssFeed } from './fixtures.js';

const match = createSymbolMatcher(['AAPL', 'MSFT', 'NVDA', 'TSLA', 'BRK.B', 'BRK']);

describe('parseFeedDate', () => {
  it.each([
    ['Tue, 05 Mar 2024 14:30:00 EST', '2024-03-05T19:30:00.000Z'],
    ['Tue, 05 Mar 2024 14:30:00 GMT', '2024-03-05T14:30:00.000Z'],
    ['Wed, 6th March 2024 at 10:00 CET', '2024-03-06T09:00:00.000Z'],
    ['Tue, 5 Mar 2024 10:00:00 GMT+0100', '2024-03-05T09:00:00.000Z'],
    ['Mon, 05 Mar 2024 14:30:00 +0000 (UTC)', '2024-03-05T14:30:00.000Z'],
    ['Mar 5, 2024 2:30 PM', '2024-03-05T14:30:00.000Z'],
    ['5 Mar 2024', '2024-03-05T00:00:00.000Z'],
    ['2024-03-07 08:15:00', '2024-03-07T08:15:00.000Z'],
    ['2024-03-05T09:31:00-05:00', '2024-03-05T14:31:00.000Z'],
    ['2024-03-05T09:31:00.123456+0530', '2024-03-05T04:01:00.123Z'],
    ['  2024-03-05  ', '2024-03-05T00:00:00.000Z'],
    ['1709632800', '2024-03-05T10:00:00.000Z'],
  ])('reads %j', (raw, iso) => {
    expect(parseFeedDate(raw)?.toISOString()).toBe(iso);
  });

  it.each([['sometime last week'], ['Mon, 32 Foo'], [''], ['0000-00-00 00:00:00'], ['9999-12-31T00:00:00Z']])(
    'gives null for %j',
    (raw) => {
      expect(parseFeedDate(raw)).toBeNull();
    },
  );

  it('never throws, whatever it is given', () => {
    for (const v of [undefined, null, 42, {}, [], 'x'.repeat(10_000), '\u0000', 'Feb 30 2024 25:99']) {
      expect(() => parseFeedDate(v)).not.toThrow();
    }
  });
});

describe('createSymbolMatcher', () => {
  it('finds whole-word and $-prefixed tickers, case-sensitively, in configured order', () => {
    expect(match('$NVDA and AAPL, not AAPLE or aapl; (MSFT)')).toEqual(['AAPL', 'MSFT', 'NVDA']);
    expect(match('Berkshire BRK.B rises')).toEqual(['BRK.B']);
    expect(match('BRK closes at a high. BRK.A too')).toEqual(['BRK']);
    expect(match('XAAPL AAPL2 TSLA.')).toEqual(['TSLA']);
    expect(createSymbolMatcher([])('AAPL')).toEqual([]);
  });
});

describe('htmlToText', () => {
  it('strips tags, scripts and entities, keeps words apart, trims to the limit', () => {
    expect(
      htmlToText('<p>One</p><p>two&nbsp;&amp; <b>thr</b>ee &#8217;&#x2019;</p><script>x()</script>', 100),
    ).toBe('One two & three ’’');
    expect(htmlToText('S&P 500 < 5000 & rising', 100)).toBe('S&P 500 < 5000 & rising');
    expect(htmlToText('&lt;p&gt;double&lt;/p&gt;escaped', 100)).toBe('double escaped');
    const long = htmlToText('word '.repeat(1000), 2000)!;
    expect(long.length).toBeLessThanOrEqual(2000);
    expect(long.endsWith('…')).toBe(true);
    expect(htmlToText('<br/> \u0000 ', 10)).toBeNull();
  });
});

describe('parseFeedItems', () => {
  it('reads a real-world-shaped RSS 2.0 feed', async () => {
    const items = await parseFeedItems(rssFeed(), match);
    expect(items).toHaveLength(4);
    const [a, b, c, d] = items;
    expect(a).toEqual({
      guid: 'urn:news:1',
      link: 'https://news.example.com/a/1',
      title: 'Apple (AAPL) beats estimates; MSFT flat',
      summary: 'Shares of Apple rose 3% & more. Analysts’ view: $NVDA next.',
      publishedAt: new Date('2024-03-05T19:30:00Z'),
      symbols: ['AAPL', 'MSFT', 'NVDA'],
    });
    // No guid: the link is the key.
    expect(b?.guid).toBe('https://news.example.com/a/2');
    expect(b?.title).toBe('AAPLE is not a ticker & neither is nvda');
    expect(b?.summary).toBe('Plain "escaped" HTML about BRK.B');
    expect(b?.symbols).toEqual(['BRK.B']);
    expect(b?.publishedAt?.toISOString()).toBe('2024-03-06T09:00:00.000Z');
    // Neither guid nor link: a stable hash of title and date.
    expect(c?.guid).toMatch(/^hash:[0-9a-f]{40}$/);
    expect(c?.link).toBeNull();
    expect(c?.publishedAt).toBeNull();
    expect(c?.symbols).toEqual(['TSLA']);
    // An empty <guid isPermaLink="false"/> is no guid.
    expect(d?.guid).toBe('https://news.example.com/a/4');
    expect(d?.publishedAt?.toISOString()).toBe('2024-03-07T08:15:00.000Z');
    expect(d?.summary).toBeNull();
    // The hash is stable across parses (so re-polls dedupe).
    expect((await parseFeedItems(rssFeed(), match))[2]?.guid).toBe(c?.guid);
  });

  it('reads Atom, including entries whose dates rss-parser would choke on', async () => {
    const items = await parseFeedItems(`\uFEFF\n${ATOM_FEED}`, match);
    expect(items.map((i) => i.guid)).toEqual(['tag:atom.example.com,2024:1', 'tag:atom.example.com,2024:2']);
    expect(items[0]).toMatchObject({
      title: 'NVDA & AMD: chips rally',
      link: 'https://atom.example.com/e/1',
      summary: 'Nvidia up 5% today',
      publishedAt: new Date('2024-03-05T14:31:00Z'),
      symbols: ['NVDA'],
    });
    expect(items[1]).toMatchObject({
      publishedAt: null,
      summary: 'MSFT and $aapl (lowercase: no)',
      symbols: ['MSFT'],
    });
  });

  it('hashes over-long guids so the unique index can hold them; drops exact duplicates, keeps different items under one guid', async () => {
    const long = 'g'.repeat(5000);
    const xml = `<rss version="2.0"><channel><title>t</title>
      <item><guid>${long}</guid><title>one</title></item>
      <item><guid>${long}</guid><title>one</title></item>
      <item><guid>${long}</guid><title>another episode, same guid</title></item></channel></rss>`;
    const items = await parseFeedItems(xml, match);
    expect(items.map((i) => i.title)).toEqual(['one', 'another episode, same guid']);
    expect(items[0]?.guid).toMatch(/^sha1:[0-9a-f]{40}$/);
    expect(items[1]?.guid).toMatch(/^sha1:[0-9a-f]{40}#[0-9a-f]{16}$/);
    expect((await parseFeedItems(xml, match)).map((i) => i.guid)).toEqual(items.map((i) => i.guid));
  });

  it('skips and counts an item with no id, no link and no title; reads <rss> without a version as RSS 2.0', async () => {
    const empty = await parseFeed(
      '<feed xmlns="http://www.w3.org/2005/Atom"><entry><author></author></entry>' +
        '<entry><summary>only a summary</summary></entry><entry><title>named</title></entry></feed>',
      match,
    );
    expect(empty.skipped).toBe(2);
    expect(empty.items.map((i) => i.title)).toEqual(['named']);
    expect(empty.items[0]?.guid).toMatch(/^hash:[0-9a-f]{40}$/);
    const noVersion = await parseFeedItems(
      '<rss><channel><title>t</title><item><title>AAPL up</title><guid>x</guid></item></channel></rss>',
      match,
    );
    expect(noVersion.map((i) => [i.guid, i.symbols])).toEqual([['x', ['AAPL']]]);
  });

  it('rejects broken XML and non-feeds', async () => {
    await expect(parseFeedItems(BROKEN_XML, match)).rejects.toThrow();
    await expect(parseFeedItems('<html><body>Not a feed</body></html>', match)).rejects.toThrow();
    await expect(parseFeedItems('', match)).rejects.toThrow();
  });
});
