// Event-loop delay as a stat for /health and /metrics (startEventLoopMonitor).
// perf_hooks' histogram, rotated per window so p99/max describe the recent past rather than the whole uptime
// (one slow start-up would otherwise pin max forever). The histogram records the whole interval between its
// timer's runs (an idle loop reads 20.2 ms at a 20 ms resolution), so the delay is that less the resolution:
// how late the timer ran (as @fastify/under-pressure reads it). Before, every figure carried the 20 ms.
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

/** How late a timer of `resolutionMs` ran, from the interval the histogram recorded (ns), in ms. */
export function lateness(intervalNs: number, resolutionMs: number): number {
  return round(Math.max(0, intervalNs / 1e6 - resolutionMs));
}

export function startEventLoopMonitor(opts: EventLoopMonitorOptions = {}): EventLoopMonitor {
  const resolution = opts.resolutionMs ?? 20;
  const histogram = monitorEventLoopDelay({ resolution });
  histogram.enable();
  let last: EventLoopStats | undefined;

  const read = (): EventLoopStats => {
    // An empty histogram reports min as a huge number and max as 0; p99 is 0 then too.
    const samples = histogram.count;
    if (samples === 0) return { delayP99Ms: 0, maxDelayMs: 0, samples };
    return {
      delayP99Ms: lateness(histogram.percentile(99), resolution),
      maxDelayMs: lateness(histogram.max, resolution),
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
