// One root pino logger per process. JSON lines in production; readable lines on a terminal.
// Writes are synchronous so the last lines before exit are never lost (pino docs/asynchronous.md):
// our volume is low by design (nothing per trade, repeats rate-limited).
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redactUrlsIn } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  /** Pretty output; default: when stdout is a TTY. */
  pretty?: boolean;
  /** Where lines go (tests pass a stream and parse the lines). Default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const base = {
    level: opts.level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    // "level":"error", not 50: Railway's log search filters on the label (@level:error).
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // Every line passes through redactUrlsIn: a URL with a password or a key in its query never reaches a log,
  // whoever logged it (an error message quoting the URL included).
  if (opts.destination) return pino(base, redacting(opts.destination as pino.DestinationStream));
  const dest = stdoutDestination();
  const usePretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (!usePretty) return pino(base, redacting(dest));
  return pino(
    base,
    pretty({
      destination: dest,
      colorize: !process.env.NO_COLOR, // no-color.org: present and not empty = no colour
      translateTime: 'SYS:HH:MM:ss.l',
      // One line per event on a terminal: the message says what matters; the fields stay in JSON mode.
      hideObject: true,
      messageFormat: (line, key) =>
        redactUrlsIn(`${line.component ? `[${line.component}] ` : ''}${line[key]}${errorSuffix(line.err)}`),
    }),
  );
}

/** The destination with every line's URLs redacted (the line is a string: pino serializes first). */
function redacting(dest: pino.DestinationStream): pino.DestinationStream {
  const flushable = dest as pino.DestinationStream & { flushSync?: () => void };
  return {
    write: (line: string) => dest.write(redactUrlsIn(line)),
    ...(flushable.flushSync ? { flushSync: () => flushable.flushSync?.() } : {}),
  } as pino.DestinationStream;
}

/** Synchronous stdout. The reader gone (`run | head`): stop as SIGTERM would (the sink drains) instead of
 * running on with every line failing; without a shutdown handler SIGTERM simply ends the process. */
function stdoutDestination(): pino.DestinationStream {
  const dest = pino.destination({ sync: true });
  let broken = false;
  dest.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' || broken) return;
    broken = true;
    process.kill(process.pid, 'SIGTERM');
  });
  return dest;
}

function errorSuffix(err: unknown): string {
  if (!err) return '';
  if (typeof err === 'string') return ` (${err})`;
  const e = err as { message?: string; code?: string };
  return ` (${[e.code, e.message].filter(Boolean).join(': ')})`;
}

/** A silent logger for tests and tools that want none. */
export function nullLogger(): Logger {
  return pino({ level: 'silent' });
}
