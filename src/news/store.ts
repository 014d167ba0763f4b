// news_items writes (NewsStore).
// One INSERT … SELECT FROM unnest(…) per poll, idempotent through ON CONFLICT (feed, guid).
// When the INSERT fails, the rows stay in a bounded in-memory buffer and ride along with the next poll's
// INSERT; past the bound the oldest are dropped and counted, never silently.
import type { NewsItem } from './parseFeed.js';

/** The slice of a pg Pool the store uses. */
export interface NewsDb {
  query(text: string, params?: unknown[]): Promise<{ rowCount: number | null; rows: unknown[] }>;
}

export const DEFAULT_MAX_PENDING = 5000;

// Symbols travel as one comma-joined text per row: unnest would flatten a text[][] (tickers hold no commas).
const INSERT_SQL = `INSERT INTO news_items (feed, guid, link, title, summary, symbols, published_at)
SELECT u.feed, u.guid, u.link, u.title, u.summary,
       CASE WHEN u.symbols = '' THEN '{}'::text[] ELSE string_to_array(u.symbols, ',') END,
       u.published_at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
       AS u(feed, guid, link, title, summary, symbols, published_at)
ON CONFLICT (feed, guid) DO NOTHING
RETURNING feed`;

interface Row {
  feed: string;
  item: NewsItem;
}

export type FlushResult =
  | { ok: true; attempted: number; insertedByFeed: Map<string, number> }
  | { ok: false; attempted: number; error: unknown };

export class NewsStore {
  // Keyed by feed + guid: a feed polled again while the DB is down does not queue its items twice.
  private pending = new Map<string, Row>();
  private dropped = 0;

  constructor(
    private readonly db: NewsDb,
    private readonly maxPending = DEFAULT_MAX_PENDING,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Items evicted from the full buffer since the last call. */
  takeDropped(): number {
    const n = this.dropped;
    this.dropped = 0;
    return n;
  }

  add(feed: string, items: readonly NewsItem[]): void {
    for (const item of items) this.pending.set(`${feed}\n${item.guid}`, { feed, item });
    this.trim();
  }

  /** Write everything pending in one statement. Concurrent calls each take a disjoint set of rows. */
  async flush(): Promise<FlushResult> {
    if (this.pending.size === 0) return { ok: true, attempted: 0, insertedByFeed: new Map() };
    const taken = this.pending;
    this.pending = new Map();
    const rows = [...taken.values()];
    try {
      const res = await this.db.query(INSERT_SQL, columns(rows));
      const insertedByFeed = new Map<string, number>();
      for (const r of res.rows as { feed: string }[]) {
        insertedByFeed.set(r.feed, (insertedByFeed.get(r.feed) ?? 0) + 1);
      }
      return { ok: true, attempted: rows.length, insertedByFeed };
    } catch (error) {
      // Put them back ahead of anything added meanwhile (they are older), newer copies winning.
      const merged = new Map(taken);
      for (const [k, v] of this.pending) {
        merged.delete(k);
        merged.set(k, v);
      }
      this.pending = merged;
      this.trim();
      return { ok: false, attempted: rows.length, error };
    }
  }

  private trim(): void {
    for (const key of this.pending.keys()) {
      if (this.pending.size <= this.maxPending) break;
      this.pending.delete(key);
      this.dropped++;
    }
  }
}

function columns(rows: readonly Row[]): unknown[] {
  return [
    rows.map((r) => r.feed),
    rows.map((r) => r.item.guid),
    rows.map((r) => r.item.link),
    rows.map((r) => r.item.title),
    rows.map((r) => r.item.summary),
    rows.map((r) => r.item.symbols.join(',')),
    rows.map((r) => r.item.publishedAt?.toISOString() ?? null),
  ];
}
