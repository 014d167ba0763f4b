// A real pino logger writing into an array, so tests can count what would reach the production log.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export const INFO = 30;
export const WARN = 40;

export function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination: stream }), lines };
}
