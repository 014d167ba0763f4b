// The outer loop: sleep until the NYSE opens, run one collecting session until its close, repeat.
// It distrusts timers (graphile-worker cron.ts): every wake re-reads the clock and the calendar, so an
// early wake sleeps again and a late one (suspend, clock jump) acts at once; sleeps are capped at
// maxSleepMs. A session that returns before the close is restarted with a capped backoff, never spun,
// and one that overruns its close is aborted (the postmortem in which the collector never came back
// from its connect loop after 16:00).
import type { MarketStatus, Session } from '../calendar/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { type BackoffPolicy, backoffDelay, RETRY_DELAYS } from '../retry/backoff.js';
import { describeWaiting, formatCountdown, formatEtAndUtc } from './describe.js';

export interface SessionRun {
  /** When the session must end (epoch ms); null = until shutdown (SKIP_MARKET_HOURS). */
  close: number | null;
  session: Session | null;
  /** Aborts on shutdown, or when the session overruns its close by `overrunGraceMs`. */
  signal: AbortSignal;
}

export interface SchedulerStats {
  state: 'starting' | 'waiting' | 'collecting' | 'backoff' | 'stopped';
  sessionsStarted: number;
  /** Sessions that ended before their close and were started again. */
  restarts: number;
  nextOpen: number | null;
  currentClose: number | null;
}

export interface SchedulerOptions {
  statusAt: (instant: number) => MarketStatus;
  clock: Clock;
  signal: AbortSignal;
  skipMarketHours: boolean;
  log: Logger;
  runSession: (s: SessionRun) => Promise<void>;
  /** Longest single sleep, so a suspended machine or a clock jump is noticed. Default 5 min. */
  maxSleepMs?: number;
  /** Minimum gap between two "waiting" lines (besides the first). Default 1 h. */
  waitLogEveryMs?: number;
  /** First restart delay after a session ended early; doubles up to restartMaxMs. Defaults 1 s / 60 s. */
  restartBaseMs?: number;
  restartMaxMs?: number;
  /** A session that ran this long resets the restart backoff. Default 60 s. */
  stableMs?: number;
  /** How long past its close a session may keep running before it is aborted. Default 30 s. */
  overrunGraceMs?: number;
  /** Filled in as the loop runs; the metrics layer reads it. */
  stats?: SchedulerStats;
  /** Start a session this long before its open (connect and subscribe before the first print). Default 0. */
  leadMs?: number;
  /** Keep a session running this long after its close (late reports of in-session trades). Default 0. */
  tailMs?: number;
}

/** A session that returns within this much of its close has ended at the close (timers are not exact). */
const CLOSE_SLACK_MS = 1000;
/** A wake this much later than planned is reported as a suspend or clock jump. */
const LATE_WAKE_MS = 60_000;

export function createSchedulerStats(): SchedulerStats {
  return { state: 'starting', sessionsStarted: 0, restarts: 0, nextOpen: null, currentClose: null };
}

export async function runScheduler(opts: SchedulerOptions): Promise<void> {
  const { clock, signal } = opts;
  const log = opts.log.child({ component: 'scheduler' });
  const maxSleepMs = opts.maxSleepMs ?? 5 * 60_000;
  const waitLogEveryMs = opts.waitLogEveryMs ?? 3_600_000;
  const restart: BackoffPolicy = {
    ...RETRY_DELAYS['session.restart'],
    ...(opts.restartBaseMs === undefined ? {} : { baseMs: opts.restartBaseMs }),
    ...(opts.restartMaxMs === undefined ? {} : { maxMs: opts.restartMaxMs }),
  };
  const stableMs = opts.stableMs ?? 60_000;
  const overrunGraceMs = opts.overrunGraceMs ?? 30_000;
  const leadMs = opts.leadMs ?? 0;
  const tailMs = opts.tailMs ?? 0;
  const stats = opts.stats ?? createSchedulerStats();

  let lastWaitLine: { at: number; remaining: number } | null = null;
  let consecutiveRestarts = 0;
  let lastNow = clock.now();
  let plannedWake: number | null = null;

  /** Sleep for `ms` unless aborted; the caller re-checks everything afterwards. */
  const sleep = async (ms: number) => {
    plannedWake = clock.now() + ms;
    await clock.sleep(ms, signal);
  };

  /** Runs one session; resolves when it returns (or throws), aborting it if it overruns its close. */
  const runOnce = async (close: number | null, session: Session | null): Promise<unknown> => {
    const sessionCtl = new AbortController();
    const onShutdown = () => sessionCtl.abort(signal.reason);
    signal.addEventListener('abort', onShutdown, { once: true });
    const watchdogCtl = new AbortController();
    let done = false;
    const watchdog = async () => {
      if (close === null) return;
      const limit = close + overrunGraceMs;
      while (!done && !watchdogCtl.signal.aborted) {
        const now = clock.now();
        if (now >= limit) {
          log.warn(
            { close, overrunMs: now - close },
            `collector still running ${formatCountdown(now - close)} after the close; stopping it`,
          );
          sessionCtl.abort(new Error('session overran its close'));
          return;
        }
        await clock.sleep(Math.min(limit - now, maxSleepMs), watchdogCtl.signal);
      }
    };
    const dog = watchdog();
    let failure: unknown;
    try {
      await Promise.resolve().then(() => opts.runSession({ close, session, signal: sessionCtl.signal }));
    } catch (err) {
      failure = err ?? new Error('runSession rejected');
    } finally {
      done = true;
      watchdogCtl.abort();
      signal.removeEventListener('abort', onShutdown);
      await dog;
    }
    return failure;
  };

  const noticeClock = (now: number) => {
    if (now < lastNow - CLOSE_SLACK_MS) {
      log.warn(
        { jumpMs: now - lastNow },
        `clock went backwards by ${formatCountdown(lastNow - now)}; re-checking`,
      );
      lastWaitLine = null;
    } else if (plannedWake !== null && now > plannedWake + LATE_WAKE_MS) {
      log.warn(
        { lateMs: now - plannedWake },
        `woke ${formatCountdown(now - plannedWake)} late (machine suspended or clock jumped); re-checking`,
      );
      lastWaitLine = null;
    }
    lastNow = now;
    plannedWake = null;
  };

  try {
    if (opts.skipMarketHours) {
      log.info('SKIP_MARKET_HOURS is on: collecting now, whatever the NYSE calendar says, until shutdown');
    }
    while (!signal.aborted) {
      const now = clock.now();
      noticeClock(now);

      let close: number | null = null;
      let session: Session | null = null;
      if (!opts.skipMarketHours) {
        const status = opts.statusAt(now);
        // Within the lead before today's open, the session starts now: subscribed before the first print.
        const upcoming = status.reason === 'before-open' ? status.session : null;
        const inLead = upcoming !== null && upcoming.open - now <= leadMs;
        const current = status.open ? status.session : inLead ? upcoming : null;
        if (current === null) {
          // Closed: say so when the wait starts, then each time the remaining wait has shrunk to a quarter
          // (never more than one line per waitLogEveryMs, none in the last of those before the open; the
          // "market open" line follows): a weekend writes four lines, a night three.
          stats.state = 'waiting';
          stats.nextOpen = status.nextOpen;
          stats.currentClose = null;
          const remaining = Math.max(1, status.nextOpen - leadMs - now);
          const due =
            lastWaitLine === null ||
            (remaining <= lastWaitLine.remaining / 4 &&
              remaining >= waitLogEveryMs &&
              Math.abs(now - lastWaitLine.at) >= waitLogEveryMs);
          if (due) {
            log.info(
              { reason: status.reason, nextOpen: new Date(status.nextOpen).toISOString() },
              describeWaiting(status, now),
            );
            lastWaitLine = { at: now, remaining };
          }
          await sleep(Math.max(1, Math.min(maxSleepMs, remaining)));
          continue;
        }
        session = current;
        close = current.close + tailMs;
      }

      lastWaitLine = null;
      stats.state = 'collecting';
      stats.sessionsStarted++;
      stats.currentClose = close;
      stats.nextOpen = null;
      if (session && close !== null) {
        const early =
          clock.now() < session.open
            ? `connecting ${formatCountdown(session.open - clock.now())} before the open; `
            : '';
        log.info(
          {
            date: session.date,
            close: new Date(session.close).toISOString(),
            earlyClose: session.earlyClose,
          },
          `market open: ${early}collecting until ${formatEtAndUtc(session.close)}${session.earlyClose ? ', an early close' : ''}`,
        );
      }
      const started = clock.now();
      const failure = await runOnce(close, session);
      if (signal.aborted) break;
      const ended = clock.now();

      if (close !== null && ended >= close - CLOSE_SLACK_MS) {
        consecutiveRestarts = 0;
        log.debug({ date: session?.date }, 'session ended at the close'); // the waiting line follows
        if (ended < close) await sleep(close - ended);
        continue;
      }
      // Ended before the close (or, with no close, before shutdown): restart after a capped backoff.
      consecutiveRestarts = ended - started >= stableMs ? 1 : consecutiveRestarts + 1;
      let delay = backoffDelay(restart, consecutiveRestarts - 1);
      if (close !== null) delay = Math.min(delay, close - ended);
      stats.restarts++;
      stats.state = 'backoff';
      log.warn(
        { err: failure, attempt: consecutiveRestarts, delayMs: delay },
        `collector session ${failure ? 'failed' : 'returned'} before ${close === null ? 'shutdown' : 'the close'}; ` +
          `starting it again in ${formatCountdown(delay)}`,
      );
      await sleep(delay);
    }
  } finally {
    stats.state = 'stopped';
    stats.currentClose = null;
  }
  log.info('scheduler stopped');
}
