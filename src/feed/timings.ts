// The feed's timings (FeedTimings) and their defaults.
// One object, built once from the configuration and passed down whole (runFeed → each chunk's connect loop →
// each attempt), so a new knob is one field here and one line in feedTimings.

export interface FeedTimings {
  /** Ping interval; no pong or no frame within two intervals ends the socket. */
  heartbeatIntervalMs: number;
  /** In session, no trade this long = resubscribe, then reconnect. */
  dataStaleMs: number;
  /** Reconnect backoff: first delay and cap (full jitter). */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  /** Wait after the server rejects the token or the symbols. */
  authFailureBackoffMs: number;
  /** Streaming this long without a drop resets the backoff. */
  stableResetMs: number;
  /**
   * Work one event-loop turn may spend on feed frames before every socket pauses until the next turn
   * (backpressure: timers, the sink and /health run in between, and unread data waits in the kernel).
   */
  turnBudgetMs: number;
  /** While the sink's backlog holds reading, how often to look again. */
  holdCheckMs: number;
}

/** The configuration's feed fields (structurally: the feed does not import the config module). */
export interface FeedTimingSettings {
  heartbeatIntervalMs: number;
  feedDataStaleMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  authFailureBackoffMs: number;
}

export const DEFAULT_STABLE_RESET_MS = 60_000;
/** 50 ms is the event-loop p99 the load check allows; half of it for the feed leaves room for the rest. */
export const DEFAULT_TURN_BUDGET_MS = 10;
export const DEFAULT_HOLD_CHECK_MS = 20;

export function feedTimings(c: FeedTimingSettings): FeedTimings {
  return {
    heartbeatIntervalMs: c.heartbeatIntervalMs,
    dataStaleMs: c.feedDataStaleMs,
    reconnectBaseMs: c.reconnectBaseMs,
    reconnectMaxMs: c.reconnectMaxMs,
    authFailureBackoffMs: c.authFailureBackoffMs,
    stableResetMs: DEFAULT_STABLE_RESET_MS,
    turnBudgetMs: DEFAULT_TURN_BUDGET_MS,
    holdCheckMs: DEFAULT_HOLD_CHECK_MS,
  };
}
