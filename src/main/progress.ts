// One progress line every few seconds (local mode) or once a minute (otherwise) while collecting.
// Trades/s, candles written, the feed's lag, buffer. The only periodic line the daemon writes: a quiet minute
// in production still says that the collector is alive and what it did.
import type { Clock } from '../clock.js';
import { type FeedStats, lagQuantile } from '../feed/stats.js';
import type { Logger } from '../log/logger.js';
import type { SinkStats } from '../store/sink/sink.js';

export interface ProgressOptions {
  log: Logger;
  everyMs: number;
  clock: Clock;
  feed: FeedStats;
  sink: SinkStats;
  active: () => boolean;
}

export function startProgress(o: ProgressOptions): { stop(): void } {
  const log = o.log.child({ component: 'progress' });
  let last = { at: o.clock.now(), trades: o.feed.trades };
  const timer = setInterval(() => {
    const now = o.clock.now();
    const secs = Math.max(0.001, (now - last.at) / 1000);
    const rate = Math.round((o.feed.trades - last.trades) / secs);
    last = { at: now, trades: o.feed.trades };
    if (!o.active()) return;
    const w = o.sink.rowsWritten;
    const p50 = lagQuantile(o.feed.lag, 0.5);
    const p99 = lagQuantile(o.feed.lag, 0.99);
    const lag = p50 === null ? 'lag —' : `lag p50 ${p50} ms / p99 ${p99} ms`;
    log.info(
      {
        tradesPerSec: rate,
        trades: o.feed.trades,
        candles1s: w.candles_1s,
        candles100t: w.candles_100t,
        buffered: o.sink.bufferedRows,
        feed: o.feed.state,
        lagP50Ms: p50,
        lagP99Ms: p99,
      },
      `${rate} trades/s, ${o.feed.trades} trades; written: ${w.candles_1s} 1s candles, ${w.candles_100t} 100-tick ` +
        `candles${w.ticks ? `, ${w.ticks} ticks` : ''}; ${lag}; buffer ${o.sink.bufferedRows}; feed ${o.feed.state}`,
    );
  }, o.everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
