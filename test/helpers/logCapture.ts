// The one log capture of the tests: a real pino logger (the production one) writing into an array, so a
// test reads back the JSON lines that would reach the production log (pino test/helper.js does the same).
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';

export interface LogLine {
  /** The level's label ("info", "warn"…): the logger writes labels, as Railway's `@level:` filter needs. */
  level: string;
  msg: string;
  event?: string;
  [key: string]: unknown;
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** Whether a line is at `level` or more severe. */
export function atLeast(line: LogLine, level: 'debug' | 'info' | 'warn' | 'error' | 'fatal'): boolean {
  return (LEVELS[line.level] ?? 0) >= LEVELS[level]!;
}

/** `lines` fills as the logger writes (synchronously). */
export function captureLog(level = 'debug'): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      for (const text of String(chunk).split('\n')) if (text.trim()) lines.push(JSON.parse(text) as LogLine);
      cb();
    },
  });
  return { log: createLogger({ level, destination: stream }), lines };
}
