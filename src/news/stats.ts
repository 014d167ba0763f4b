// Plain counters the metrics layer reads, and the one-line summary the poller logs.

export type NewsFeedState = 'pending' | 'ok' | 'failing' | 'dead';

export interface NewsFeedStats {
  url: string;
  /** Requests to one host are serialised. */
  host: string;
  /** "host/path", short, for log lines. */
  label: string;
  /** `pending` until the first poll finishes. */
  state: NewsFeedState;
  /** Epoch ms of the last successful poll (200 or 304). */
  lastOk: number | null;
  /** The last failure's short reason ("404", "timeout", …). */
  lastError: string | null;
  consecutiveFailures: number;
  /** Epoch ms when the current run of failures began. */
  failingSince: number | null;
  /** Epoch ms. */
  nextPollAt: number;
  polls: number;
  notModified: number;
  itemsStored: number;
  /** Items with no id, no link and no title: not news, not stored. */
  itemsSkipped: number;
}

export interface NewsTotals {
  polls: number;
  ok: number;
  notModified: number;
  failures: number;
  itemsStored: number;
  /** Items with no id, no link and no title: not news, not stored. */
  itemsSkipped: number;
  /** Items parsed but not yet in the database (a failed INSERT keeps them for the next one). */
  itemsPending: number;
  /** Items given up because the pending buffer was full. */
  itemsDropped: number;
  dbErrors: number;
  /** Failures that are not the remote's doing (a bad URL, a bug). */
  unusualErrors: number;
}

export interface NewsStats {
  feeds: NewsFeedStats[];
  totals: NewsTotals;
}

export function createNewsStats(): NewsStats {
  return {
    feeds: [],
    totals: {
      polls: 0,
      ok: 0,
      notModified: 0,
      failures: 0,
      itemsStored: 0,
      itemsSkipped: 0,
      itemsPending: 0,
      itemsDropped: 0,
      dbErrors: 0,
      unusualErrors: 0,
    },
  };
}

export function feedLabel(url: string): string {
  try {
    const u = new URL(url);
    const label = `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
    return label.length > 60 ? `${label.slice(0, 59)}…` : label;
  } catch {
    return url.slice(0, 60);
  }
}

const LISTED = 8;

/** "news: 12 feeds ok, 3 failing: host/a (404), host/b (timeout), 1 dead: host/c (403)". */
export function summaryLine(feeds: readonly NewsFeedStats[]): string {
  const ok = feeds.filter((f) => f.state === 'ok').length;
  const parts = [`news: ${ok} ${ok === 1 ? 'feed' : 'feeds'} ok`];
  for (const state of ['failing', 'dead'] as const) {
    const these = feeds.filter((f) => f.state === state);
    if (these.length === 0) continue;
    const listed = these.slice(0, LISTED).map((f) => `${f.label} (${f.lastError ?? '?'})`);
    const more = these.length > LISTED ? `, … ${these.length - LISTED} more` : '';
    parts.push(`${these.length} ${state}: ${listed.join(', ')}${more}`);
  }
  return parts.join(', ');
}
