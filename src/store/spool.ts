// The overflow spool: when the in-memory buffer is full (a long database outage) the oldest rows go to
// JSONL files under <dataDir>/spool/, one file per chunk, and are read back once writes succeed again —
// also by the next start when stop() could not drain everything. Replay order does not matter for candles:
// the no-partial-overwrite rule keeps the fullest version whatever order versions arrive in.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecondCandle, TickCandle, Trade } from '../aggregate/types.js';
import type { FeedGap } from './writeGaps.js';

export type TableName = 'candles_1s' | 'candles_100t' | 'ticks' | 'feed_gaps';

export interface SpooledRows {
  candles_1s: SecondCandle[];
  candles_100t: TickCandle[];
  ticks: Trade[];
  feed_gaps: FeedGap[];
}

export class Spool {
  readonly dir: string;
  private seq = 0;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'spool');
  }

  /** Writes one chunk of one table's rows; returns the file. Atomic (tmp + rename): replay never sees half. */
  async write(table: TableName, rows: readonly unknown[]): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const name = `${Date.now()}-${process.pid}-${String(this.seq++).padStart(6, '0')}-${table}.jsonl`;
    const file = join(this.dir, name);
    let text = '';
    for (const r of rows) text += `${JSON.stringify(r)}\n`;
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
    return file;
  }

  /** Complete spool files, oldest first. */
  async list(): Promise<string[]> {
    try {
      const names = await readdir(this.dir);
      return names
        .filter((n) => n.endsWith('.jsonl'))
        .sort()
        .map((n) => join(this.dir, n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Reads a file back: its table and rows (a torn last line from a crash is skipped). */
  async read(file: string): Promise<{ table: TableName; rows: unknown[] }> {
    const m = /-(candles_1s|candles_100t|ticks|feed_gaps)\.jsonl$/.exec(file);
    if (!m) throw new Error(`not a spool file: ${file}`);
    const rows: unknown[] = [];
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      if (line.length === 0) continue;
      try {
        rows.push(JSON.parse(line));
      } catch {
        // a torn line: nothing to recover from it
      }
    }
    return { table: m[1] as TableName, rows };
  }

  async remove(file: string): Promise<void> {
    await rm(file, { force: true });
  }
}
