// Storm-proof logging (RateLimitedLog).
// An event that can repeat (a disconnect, an invalid message, a database retry) logs in full the first time
// in each window; repeats are counted and summarised in one line when the window closes ("… 312 more in the
// last 10 s"). Keyed by event, so one storm cannot hide another.
// Keys must be low-cardinality (an event name, maybe a reason), never a symbol or a message id.
import type { Logger } from 'pino';

export type RateLimitedLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

interface Window {
  started: number;
  suppressed: number;
  level: RateLimitedLevel;
  msg: string;
}

export interface RateLimitOptions {
  windowMs?: number;
  now?: () => number;
  /** Keys tracked at once; beyond this the oldest window is summarised early (one line, not a burst). */
  maxKeys?: number;
}

export class RateLimitedLog {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxKeys: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    opts: RateLimitOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.maxKeys = Math.max(1, opts.maxKeys ?? 1000);
  }

  /** Log `msg` under `key` unless this key already logged within the window. Returns true when written. */
  event(key: string, level: RateLimitedLevel, obj: Record<string, unknown>, msg: string): boolean {
    const t = this.now();
    const w = this.windows.get(key);
    // A clock that went backwards (t < started) keeps the window open rather than spamming.
    if (w && t - w.started < this.windowMs) {
      w.suppressed++;
      return false;
    }
    if (w) this.close(key, w, t);
    // Map order is insertion order, so the first entry is the oldest window.
    while (this.windows.size >= this.maxKeys) {
      const [oldKey, oldW] = this.windows.entries().next().value as [string, Window];
      this.close(oldKey, oldW, t);
    }
    this.windows.set(key, { started: t, suppressed: 0, level, msg });
    this.log[level]({ ...obj, event: key }, msg);
    return true;
  }

  /** Summarise every window that has ended (all of them with `all`). Call periodically or at shutdown. */
  flush(all = false): void {
    const t = this.now();
    for (const [key, w] of this.windows) {
      if (all || t - w.started >= this.windowMs) this.close(key, w, t);
    }
  }

  /** Summarise ended windows every `everyMs` on an unref'd timer (so it never keeps the process alive). */
  startTimer(everyMs = this.windowMs): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush(true);
  }

  private close(key: string, w: Window, t: number): void {
    this.windows.delete(key);
    if (w.suppressed > 0) {
      // The repeats all fell inside the window, so a summary written long after it (the next occurrence
      // hours later) still speaks of the window's length, not of the hours in between.
      const spanMs = Math.min(Math.max(0, t - w.started), this.windowMs);
      const secs = Math.max(1, Math.round(spanMs / 1000));
      this.log[w.level](
        { event: key, suppressed: w.suppressed, windowS: secs },
        `${w.msg} (… ${w.suppressed} more in the last ${secs} s)`,
      );
    }
  }
}
