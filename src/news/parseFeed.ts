// Feed XML → the rows we store.
// rss-parser does the XML (RSS 0.9/1/2, Atom); we pick the fields ourselves because real feeds put objects
// where strings belong (<guid isPermaLink="false"/>), drop guids, and write dates rss-parser cannot read.
import { createHash } from 'node:crypto';
import Parser from 'rss-parser';
import { parseFeedDate } from './dates.js';
import { htmlToText, truncate } from './htmlText.js';
import type { SymbolMatcher } from './symbols.js';

export const SUMMARY_MAX_CHARS = 2000;
const TITLE_MAX_CHARS = 500;
const LINK_MAX_CHARS = 2000;
// The unique index on (feed, guid) is a btree: keys past ~2.7 kB fail the INSERT, so long ids are hashed.
const GUID_MAX_CHARS = 500;

export interface NewsItem {
  /** The dedup key within a feed: guid/id, else link, else a hash of title + date (+ summary). */
  guid: string;
  link: string | null;
  title: string | null;
  summary: string | null;
  publishedAt: Date | null;
  symbols: string[];
}

type RawItem = Record<string, unknown>;

interface AtomParser {
  parseItemAtom(entry: Record<string, unknown>): RawItem;
}

function createParser(): Parser {
  // A feed with <rss> but no version attribute (seen on a large news portal) is read as RSS 2.0.
  const parser = new Parser({ defaultRSS: 2.0 });
  // rss-parser calls `new Date(published).toISOString()` on Atom entries, which throws on an unreadable
  // date and rejects the whole feed. Hide those two elements from it and keep their raw text for ourselves.
  const atom = parser as unknown as AtomParser;
  const original = atom.parseItemAtom.bind(parser);
  atom.parseItemAtom = (entry) => {
    const { published, updated, ...rest } = entry;
    const item = original(rest);
    item.published = firstText(published);
    item.updated = firstText(updated);
    return item;
  };
  return parser;
}

// xml2js parses synchronously, so one parser serves every feed.
const parser = createParser();

/** A feed's items, and how many it listed that are not news (nothing to open or name them by). */
export interface ParsedFeed {
  items: NewsItem[];
  skipped: number;
}

/** The items of a feed body (see parseFeed). */
export async function parseFeedItems(xml: string, matchSymbols: SymbolMatcher): Promise<NewsItem[]> {
  return (await parseFeed(xml, matchSymbols)).items;
}

/**
 * Parse a feed body. Rejects on anything that is not a readable RSS/Atom document. An item with no id, no
 * link and no title (rss-parser's incomplete-fields.atom: an entry holding an empty <author/>) is one a
 * reader can neither open nor name: not news. It is skipped and counted, never stored as an empty row.
 */
export async function parseFeed(xml: string, matchSymbols: SymbolMatcher): Promise<ParsedFeed> {
  // A BOM or leading blank lines before the XML declaration make xml2js fail.
  const feed = await parser.parseString(xml.replace(/^[\uFEFF\s]+/, ''));
  const items: NewsItem[] = [];
  let skipped = 0;
  const seen = new Map<string, NewsItem>();
  for (const raw of feed.items as RawItem[]) {
    const item = toNewsItem(raw, matchSymbols);
    if (item === null) {
      skipped++;
      continue;
    }
    const before = seen.get(item.guid);
    if (before && sameContent(before, item)) continue; // the same item listed twice
    // Two different items under one guid (a podcast feed reusing an episode's id): keep both, the second
    // keyed by its content, so none is lost and a re-poll maps each to the same row again.
    if (before) item.guid = `${item.guid}#${sha1(contentKey(item)).slice(0, 16)}`;
    seen.set(item.guid, item);
    items.push(item);
  }
  return { items, skipped };
}

const contentKey = (i: NewsItem) =>
  `${i.title ?? ''}\n${i.publishedAt?.toISOString() ?? ''}\n${i.link ?? ''}\n${i.summary ?? ''}`;
const sameContent = (a: NewsItem, b: NewsItem) => contentKey(a) === contentKey(b);

function toNewsItem(raw: RawItem, matchSymbols: SymbolMatcher): NewsItem | null {
  const title = htmlToText(firstText(raw.title), TITLE_MAX_CHARS);
  const summary = htmlToText(
    firstText(raw.summary) ?? firstText(raw.content) ?? firstText(raw['content:encoded']),
    SUMMARY_MAX_CHARS,
  );
  const link = cleanLine(firstText(raw.link), LINK_MAX_CHARS);
  const dateRaw =
    firstText(raw.pubDate) ?? firstText(raw.published) ?? firstText(raw.date) ?? firstText(raw.updated);
  const publishedAt = parseFeedDate(dateRaw) ?? parseFeedDate(firstText(raw.isoDate));
  const id = cleanLine(firstText(raw.guid) ?? firstText(raw.id), Number.POSITIVE_INFINITY);
  if (id === null && link === null && title === null) return null;

  let guid = id ?? link;
  if (guid === null) {
    // No id and no link: keyed by its title and date.
    guid = `hash:${sha1(`${title ?? ''}\n${dateRaw ?? ''}`)}`;
  } else if (guid.length > GUID_MAX_CHARS) {
    guid = `sha1:${sha1(guid)}`;
  }

  const symbols = matchSymbols(`${title ?? ''}\n${summary ?? ''}`);
  return { guid, link, title, summary, publishedAt, symbols };
}

/** The text of a field that xml2js may hand over as a string, an array, or an element object `{ _: text }`. */
function firstText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return firstText(v[0]);
  if (v !== null && typeof v === 'object' && '_' in v) return firstText((v as { _: unknown })._);
  return null;
}

function cleanLine(s: string | null, max: number): string | null {
  if (s === null) return null;
  const t = s.replace(/\u0000/g, '').trim();
  return t === '' ? null : Number.isFinite(max) ? truncate(t, max) : t;
}

function sha1(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}
