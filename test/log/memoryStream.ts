// An in-memory destination for pino: tests read back the JSON lines the code under test wrote.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export class MemoryStream extends Writable {
  readonly chunks: string[] = [];

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }

  get lines(): LogLine[] {
    return this.chunks
      .join('')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as LogLine);
  }
}

export function memoryLogger(level = 'debug'): { log: Logger; stream: MemoryStream } {
  const stream = new MemoryStream();
  return { log: createLogger({ level, destination: stream }), stream };
}
