// The daemon's watchdog (startWatchdog): a stalled progress counter or a blocked event loop is fatal.
// Railway restarts a service only when it exits non-zero, and checks health only at deploy time, so the
// daemon watches itself: while it should be collecting, a progress counter that stops moving for stallMs
// means a wedged loop; a check timer that fires blockMs late means the event loop was blocked. Either one
// calls onFatal once (main runs the shutdown path and exits 1).
//
// Limit: a loop blocked *forever* never runs this timer; only a watcher on another thread could see that.

export interface WatchdogOptions {
  /** Monotonic milliseconds. Default performance.now(): a wall-clock step (NTP, suspend) must not look like a block. */
  now?: () => number;
  stallMs: number;
  blockMs: number;
  /** A counter that grows while collecting (e.g. frames received + sink writes). */
  progress: () => number;
  /** True while the collector should be collecting (feed wanted: session open or market hours skipped). */
  collecting: () => boolean;
  onFatal: (reason: string) => void;
  /** Default 1000 ms. */
  checkEveryMs?: number;
}

export interface WatchdogStats {
  /** Time since progress last moved while collecting; null when not collecting. */
  stalledForMs: number | null;
  /** Largest lateness of the check timer seen so far. */
  maxTimerDriftMs: number;
  fired: string | null;
}

export interface Watchdog {
  /** One tick of the check timer: measures its own lateness, then looks at progress. Returns the fatal reason, if any. */
  check(): string | null;
  stats(): WatchdogStats;
  stop(): void;
}

export function startWatchdog(opts: WatchdogOptions): Watchdog {
  const now = opts.now ?? (() => performance.now());
  const every = opts.checkEveryMs ?? 1_000;
  let lastTick = now();
  let lastProgress = opts.progress();
  let lastProgressAt = lastTick;
  let wasCollecting = false;
  let maxDrift = 0;
  let fired: string | null = null;
  let timer: NodeJS.Timeout | undefined;

  const fire = (reason: string): string => {
    fired = reason;
    stop();
    opts.onFatal(reason);
    return reason;
  };

  function check(): string | null {
    if (fired) return fired;
    const t = now();
    const drift = t - lastTick - every;
    lastTick = t;
    if (drift > maxDrift) maxDrift = drift;
    if (drift >= opts.blockMs) {
      return fire(`event loop blocked for ${Math.round(drift)} ms (limit ${opts.blockMs} ms)`);
    }

    const p = opts.progress();
    const collecting = opts.collecting();
    // Not collecting (market closed), just started collecting, or progress moved: the stall clock restarts.
    if (!collecting || !wasCollecting || p !== lastProgress) {
      lastProgress = p;
      lastProgressAt = t;
    } else if (t - lastProgressAt >= opts.stallMs) {
      return fire(
        `no progress for ${Math.round(t - lastProgressAt)} ms while collecting (limit ${opts.stallMs} ms)`,
      );
    }
    wasCollecting = collecting;
    return null;
  }

  function stop(): void {
    if (timer) clearInterval(timer);
    timer = undefined;
  }

  timer = setInterval(check, every);
  // A watchdog must never be the reason the process stays alive.
  timer.unref();

  return {
    check,
    stats: () => ({
      stalledForMs: wasCollecting ? now() - lastProgressAt : null,
      maxTimerDriftMs: Math.max(0, Math.round(maxDrift)),
      fired,
    }),
    stop,
  };
}
