// The news part's public surface (news/start.ts wires the configuration to these options).
export { DEFAULT_USER_AGENT } from './fetchFeed.js';
export type { NewsItem } from './parseFeed.js';
export { type NewsPollerOptions, type PollEvent, runNewsPoller } from './poller.js';
export {
  createNewsStats,
  type NewsFeedState,
  type NewsFeedStats,
  type NewsStats,
  type NewsTotals,
} from './stats.js';
export type { NewsDb } from './store.js';
