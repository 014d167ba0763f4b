// Storm-proof logging: an event that can repeat (a disconnect, an invalid message, a database retry)
// logs in full the first time in each window; repeats are counted and summarised in one line when
// the window closes ("… 312 more in the last 10 s"). Keyed by event, so one storm cannot hide another.
import type { Logger } from 'pino';

type Level = 'debug' | 'info' | 'warn' | 'error';

interface Window {
  started: number;
  suppressed: number;
  level: Level;
  msg: string;
}

export interface RateLimitOptions {
  windowMs?: number;
  now?: () => number;
  /** Keys tracked at once; beyond this the oldest windows are summarised early. */
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
    this.maxKeys = opts.maxKeys ?? 1000;
  }

  /** Log `msg` under `key` unless this key already logged within the window. Returns true when written. */
  event(key: string, level: Level, obj: Record<string, unknown>, msg: string): boolean {
    const t = this.now();
    const w = this.windows.get(key);
    if (w && t - w.started < this.windowMs) {
      w.suppressed++;
      return false;
    }
    if (w) this.close(key, w);
    if (this.windows.size >= this.maxKeys) this.flush(true);
    this.windows.set(key, { started: t, suppressed: 0, level, msg });
    this.log[level]({ ...obj, event: key }, msg);
    return true;
  }

  /** Summarise every window that has ended (all of them with `all`). Call periodically or at shutdown. */
  flush(all = false): void {
    const t = this.now();
    for (const [key, w] of this.windows) {
      if (all || t - w.started >= this.windowMs) this.close(key, w);
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

  private close(key: string, w: Window): void {
    this.windows.delete(key);
    if (w.suppressed > 0) {
      const secs = Math.max(1, Math.round((this.now() - w.started) / 1000));
      this.log[w.level](
        { event: key, suppressed: w.suppressed },
        `${w.msg} (… ${w.suppressed} more in the last ${secs} s)`,
      );
    }
  }
}
