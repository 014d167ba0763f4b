// Event-loop delay as a stat for /health and /metrics (startEventLoopMonitor).
// perf_hooks' histogram, rotated per window so p99/max describe the recent past rather than the whole uptime
// (one slow start-up would otherwise pin max forever).
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopStats {
  delayP99Ms: number;
  maxDelayMs: number;
  /** Samples behind the numbers (the histogram records one per resolution tick after the first). */
  samples: number;
}

export interface EventLoopMonitor {
  /** The last complete window, or the current one before the first window has ended. */
  stats(): EventLoopStats;
  /** End the current window now (the timer calls it every windowMs; tests call it directly). */
  rotate(): void;
  stop(): void;
}

export interface EventLoopMonitorOptions {
  /** Sampling resolution of the histogram. Default 20 ms. */
  resolutionMs?: number;
  /** Window length. Default 10 s. */
  windowMs?: number;
}

export function startEventLoopMonitor(opts: EventLoopMonitorOptions = {}): EventLoopMonitor {
  const histogram = monitorEventLoopDelay({ resolution: opts.resolutionMs ?? 20 });
  histogram.enable();
  let last: EventLoopStats | undefined;

  const read = (): EventLoopStats => {
    // An empty histogram reports min as a huge number and max as 0; p99 is 0 then too.
    const samples = histogram.count;
    if (samples === 0) return { delayP99Ms: 0, maxDelayMs: 0, samples };
    return {
      delayP99Ms: round(histogram.percentile(99) / 1e6),
      maxDelayMs: round(histogram.max / 1e6),
      samples,
    };
  };
  const rotate = () => {
    last = read();
    histogram.reset();
  };
  const timer = setInterval(rotate, opts.windowMs ?? 10_000);
  timer.unref();

  return {
    stats: () => last ?? read(),
    rotate,
    stop() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
