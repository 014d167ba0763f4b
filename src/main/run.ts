// `tick-collector run`: the daemon.
// Signals, fatal errors and the watchdog all end in one shutdown path with a deadline; the process exits 0
// only when told to stop.
import { systemClock } from '../clock.js';
import type { Config } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { installShutdown } from '../ops/shutdown.js';
import type { SinkSummary } from '../store/sink/sink.js';
import { type Collector, StartAborted, startCollector } from './collector.js';
import { platformWarnings } from './platform.js';

/** The last line: what was written, and what (if anything) was not and where it went. */
export function describeSummary(reason: string, s: SinkSummary): string {
  const w = s.written;
  const unwritten = s.spooledAtStop + s.lostRows;
  return (
    // Gaps are not written by the sink: the ledger derives them from coverage (`tick-collector gaps`).
    `stopped (${reason}): wrote ${w.candles_1s} 1s candles, ${w.candles_100t} 100-tick candles` +
    (w.ticks ? `, ${w.ticks} ticks` : '') +
    (unwritten > 0
      ? `; NOT written: ${s.spooledAtStop} rows spooled to ${s.spoolDir} (replayed at next start), ${s.lostRows} lost`
      : '; nothing left unwritten')
  );
}

export async function runCommand(config: Config): Promise<number> {
  const log = createLogger({
    level: config.logLevel,
    ...(config.logFormat === 'auto' ? {} : { pretty: config.logFormat === 'pretty' }),
  });
  for (const line of platformWarnings(process.env, config.dataDir)) log.warn({ component: 'main' }, line);
  let starting: Promise<Collector> | undefined;
  const startAbort = new AbortController();
  const shutdown = installShutdown({
    log,
    timeoutMs: config.shutdownTimeoutMs,
    onShutdown: async (reason, { step, raiseExitCode }) => {
      // A signal during start-up waits for it (bounded by the deadline), then stops what was started:
      // exiting with the embedded database half-open could damage it.
      startAbort.abort();
      const collector = await starting?.catch(() => undefined);
      if (!collector) return;
      const summary = await collector.stop(config.shutdownTimeoutMs, step);
      if (!summary) return;
      const line = { component: 'main', reason, ...summary };
      // Rows lost (the spool unwritable): the platform and the operator must see a failure, not a clean stop.
      if (summary.lostRows > 0) {
        log.error(line, describeSummary(reason, summary));
        raiseExitCode(1);
      } else log.info(line, describeSummary(reason, summary));
    },
  });
  let collector: Collector;
  try {
    starting = startCollector(config, {
      log,
      clock: systemClock,
      signal: startAbort.signal,
      onFatal: (reason) => {
        log.fatal(
          { component: 'watchdog', reason },
          `watchdog: ${reason}; exiting so the platform restarts us`,
        );
        void shutdown.shutdown(`watchdog: ${reason}`, 1);
      },
    });
    collector = await starting;
  } catch (err) {
    if (err instanceof StartAborted) return 0; // the shutdown handler exits
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
