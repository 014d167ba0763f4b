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
/**
 * How long one turn of the event loop may read frames. The event loop's p99 is asked to stay under 30 ms at
 * 400k trades/s: a turn, a flush slice, a statement's build and a wait for a core can fall in the same gap.
 * 10 ms gave 28–30 ms there with publishing on, 6 ms 21–30 ms (docs/ARCHITECTURE.md, Threads).
 */
export const DEFAULT_TURN_BUDGET_MS = 6;
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
