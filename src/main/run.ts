// `tick-collector run`: the daemon. Signals, fatal errors and the watchdog all end in one shutdown path
// with a deadline; the process exits 0 only when told to stop.
import { systemClock } from '../clock.js';
import type { Config } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { installShutdown } from '../ops/shutdown.js';
import { type Collector, startCollector } from './collector.js';

export async function runCommand(config: Config): Promise<number> {
  const log = createLogger({
    level: config.logLevel,
    ...(config.logFormat === 'auto' ? {} : { pretty: config.logFormat === 'pretty' }),
  });
  let collector: Collector | undefined;
  const shutdown = installShutdown({
    log,
    timeoutMs: config.shutdownTimeoutMs,
    onShutdown: async (reason, { step }) => {
      if (!collector) return;
      const summary = await collector.stop(config.shutdownTimeoutMs, step);
      if (summary) {
        const lost = summary.spooledAtStop + summary.lostRows;
        log.info(
          { component: 'main', reason, ...summary },
          `stopped (${reason}): wrote ${summary.written.candles_1s} 1s candles, ${summary.written.candles_100t} ` +
            `100-tick candles, ${summary.written.feed_gaps} gaps` +
            (summary.written.ticks ? `, ${summary.written.ticks} ticks` : '') +
            (lost > 0
              ? `; NOT written: ${summary.spooledAtStop} rows spooled to ${summary.spoolDir} (replayed at next start), ${summary.lostRows} lost`
              : '; nothing left unwritten'),
        );
      }
    },
  });
  try {
    collector = await startCollector(config, {
      log,
      clock: systemClock,
      onFatal: (reason) => {
        log.fatal(
          { component: 'watchdog', reason },
          `watchdog: ${reason}; exiting so the platform restarts us`,
        );
        void shutdown.shutdown(`watchdog: ${reason}`, 1);
      },
    });
  } catch (err) {
    log.fatal({ err }, `start-up failed: ${(err as Error).message}`);
    await shutdown.shutdown('start-up failed', 1);
    return 1;
  }
  try {
    await collector.done;
  } catch (err) {
    // The scheduler only ends on stop; ending otherwise is a bug: exit non-zero so the platform restarts us.
    log.fatal({ err }, `scheduler failed: ${(err as Error).message}`);
    await shutdown.shutdown('scheduler failed', 1);
    return 1;
  }
  // done settles after stop() aborted it; the shutdown handler exits the process.
  return 0;
}
