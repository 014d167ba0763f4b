// Signals and fatal errors in one place, with a deadline (model: mcollina/close-with-grace).
// The first SIGTERM/SIGINT runs onShutdown raced against timeoutMs; a second one (not the echo of the
// first, see onSignal) exits at once.
// An uncaught exception or unhandled rejection is logged as fatal and ends the process with 1 after a
// best-effort shutdown under the same deadline: never swallowed, and Railway restarts us on non-zero.
//
// Exit codes: 0 clean stop on a signal · 1 fatal error, failed or timed-out shutdown, a programmatic
// shutdown(reason, 1), or a drain that reported a loss (ctx.raiseExitCode: rows lost) · 128+n on a second signal (130 SIGINT, 143 SIGTERM), as a shell reports a kill.
// SIGPIPE is not handled: libuv ignores it and the write returns EPIPE instead.
import { constants } from 'node:os';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rateLimit.js';

export interface ShutdownContext {
  /** Run one named step; while it runs it is "pending", and a timeout names every pending step. */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** The shutdown completed but something was lost: exit with at least `code`. */
  raiseExitCode(code: number): void;
}

export interface ShutdownOptions {
  log: Logger;
  timeoutMs: number;
  /** Stop the feed, drain the aggregators, drain the sink, close the pool and the HTTP server. */
  onShutdown: (reason: string, ctx: ShutdownContext) => Promise<void>;
  /** Default process.exit. Called exactly once, after the logs are flushed. */
  exit?: (code: number) => void;
  /** Default ['SIGTERM', 'SIGINT']. */
  signals?: NodeJS.Signals[];
  /** Handle uncaughtException / unhandledRejection. Default true (in-process tests turn it off). */
  catchFatalErrors?: boolean;
}

export interface Shutdown {
  /**
   * Run the shutdown path from code, e.g. the watchdog: `shutdown('watchdog: no progress', 1)`. The process
   * exits with `code` when onShutdown succeeds (1 if it fails or times out). A second call joins the first
   * and can only raise the exit code. Resolves once exit has been called.
   */
  shutdown(reason: string, code?: number): Promise<void>;
  readonly shuttingDown: boolean;
  uninstall(): void;
}

const FLUSH_FALLBACK_MS = 500;
const DUPLICATE_SIGNAL_MS = 1_000;

export function installShutdown(opts: ShutdownOptions): Shutdown {
  const log = opts.log.child({ component: 'shutdown' });
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  const catchErrors = opts.catchFatalErrors ?? true;
  // Errors can repeat while we drain (a throwing timer): one line per window, not a storm.
  const limited = new RateLimitedLog(log);

  let running: Promise<void> | undefined;
  let exitCode = 0;
  let exited = false;
  const pending = new Map<string, number>();

  let firstSignal: { signal: NodeJS.Signals; at: number } | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C under `npm start`/`npx` arrives twice at once: from the terminal (process group) and forwarded
    // by the wrapper. The same signal within DUPLICATE_SIGNAL_MS is that echo, not a second request.
    if (firstSignal?.signal === signal && performance.now() - firstSignal.at < DUPLICATE_SIGNAL_MS) return;
    if (running) {
      const code = 128 + (constants.signals[signal] ?? 0);
      log.warn(
        { signal, code, pending: [...pending.keys()] },
        `second ${signal} during shutdown: exiting now`,
      );
      finish(code);
      return;
    }
    firstSignal = { signal, at: performance.now() };
    log.info({ signal }, `${signal} received: shutting down`);
    void shutdown(signal, 0);
  };
  const onUncaught = (err: unknown) => fatal('uncaughtException', err);
  const onRejection = (reason: unknown) => fatal('unhandledRejection', reason);

  function fatal(kind: string, err: unknown): void {
    const error = err instanceof Error ? err : new Error(`non-error ${kind}: ${String(err)}`);
    if (running) {
      limited.event(`shutdown.${kind}`, 'fatal', { err: error }, `${kind} during shutdown`);
      exitCode = Math.max(exitCode, 1);
      return;
    }
    log.fatal({ err: error, kind }, `${kind}: ${error.message}; shutting down`);
    void shutdown(kind, 1);
  }

  function shutdown(reason: string, code = 0): Promise<void> {
    exitCode = Math.max(exitCode, code);
    running ??= run(reason);
    return running;
  }

  async function run(reason: string): Promise<void> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    // Created before onShutdown runs, and ref'd: a drain that never settles must still end in exit(1).
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), opts.timeoutMs);
    });
    const ctx: ShutdownContext = {
      step,
      raiseExitCode: (code) => {
        exitCode = Math.max(exitCode, code);
      },
    };
    try {
      const outcome = await Promise.race([
        Promise.resolve()
          .then(() => opts.onShutdown(reason, ctx))
          .then(() => 'done' as const),
        deadline,
      ]);
      const ms = Math.round(performance.now() - started);
      if (outcome === 'timeout') {
        log.error(
          { reason, timeoutMs: opts.timeoutMs, pending: [...pending.keys()] },
          `shutdown timed out after ${opts.timeoutMs} ms; pending: ${[...pending.keys()].join(', ') || '(unnamed work)'}`,
        );
        exitCode = Math.max(exitCode, 1);
      } else {
        log.info({ reason, ms, code: exitCode }, `shutdown complete in ${ms} ms`);
      }
    } catch (err) {
      log.error({ err, reason, pending: [...pending.keys()] }, 'shutdown failed');
      exitCode = Math.max(exitCode, 1);
    } finally {
      clearTimeout(timer);
    }
    limited.stop();
    await finish(exitCode);
  }

  async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    pending.set(name, t0);
    try {
      return await fn();
    } finally {
      pending.delete(name);
      log.debug({ step: name, ms: Math.round(performance.now() - t0) }, `shutdown step done: ${name}`);
    }
  }

  /** Flush the logs, then exit once (pino docs/asynchronous.md: lines are lost if we exit first). */
  function finish(code: number): Promise<void> {
    if (exited) return Promise.resolve();
    exited = true;
    return new Promise((resolve) => {
      let done = false;
      const go = () => {
        if (done) return;
        done = true;
        clearTimeout(fallback);
        exit(code);
        resolve();
      };
      // A broken log stream may never call back: exit anyway.
      const fallback = setTimeout(go, FLUSH_FALLBACK_MS);
      try {
        log.flush(() => go());
      } catch {
        go();
      }
    });
  }

  for (const s of signals) process.on(s, onSignal);
  if (catchErrors) {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onRejection);
  }

  return {
    shutdown,
    get shuttingDown() {
      return running !== undefined;
    },
    uninstall() {
      for (const s of signals) process.off(s, onSignal);
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onRejection);
    },
  };
}
