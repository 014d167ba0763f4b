// The feed's public surface, for main and the HTTP/metrics layer.
export { type InvalidReason, type ParsedMessage, parseMessage } from './parse.js';
export { type FeedGap, type FeedOptions, type FeedResult, runFeed } from './runFeed.js';
export { type SimServer, type SimServerOptions, type SimServerStats, startSimServer } from './sim/server.js';
export {
  type ConnectionStats,
  createFeedStats,
  type FeedState,
  type FeedStats,
  feedStatsSnapshot,
  lagQuantile,
} from './stats.js';
export { classifyStatus, DEMO_SYMBOLS } from './status.js';
