// The overflow spool (Spool): rows past the in-memory buffer, as durable JSONL files on disk.
// When the in-memory buffer is full (a long database outage) the oldest rows go to JSONL files under
// <dataDir>/spool/, one file per chunk, and are read back once writes succeed again — also by the next start
// when stop() could not drain everything. Replay order does not matter for candles: the no-partial-overwrite
// rule keeps the fullest version whatever order versions arrive in.
// A file counts only once it is durable: written to <name>.tmp, fsync'd, renamed, and the directory
// fsync'd; a write that fails on the way (ENOSPC, EDQUOT, EIO) removes its .tmp and throws.
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecondCandle, TickCandle, Trade } from '../../aggregate/types.js';
import type { FeedGap } from '../write/writeGaps.js';

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

  /** Writes one chunk of one table's rows durably; returns the file. Replay never sees half a file. */
  async write(table: TableName, rows: readonly unknown[]): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const name = `${Date.now()}-${process.pid}-${String(this.seq++).padStart(6, '0')}-${table}.jsonl`;
    const file = join(this.dir, name);
    const tmp = `${file}.tmp`;
    let text = '';
    for (const r of rows) text += `${JSON.stringify(r)}\n`;
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
      await syncDir(this.dir); // the rename itself survives a power cut only once the directory is synced
    } catch (err) {
      // Not durable: the caller keeps the rows, so no file of them may stay behind.
      await Promise.all([tmp, file].map((f) => rm(f, { force: true }).catch(() => undefined)));
      throw err;
    }
    return file;
  }

  /**
   * Removes .tmp files left by other processes (a crash mid-write: never renamed, so never counted). This
   * process's own may be in progress and are kept.
   */
  async removeStaleTemp(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    const own = `-${process.pid}-`;
    const stale = names.filter((n) => n.endsWith('.tmp') && !n.includes(own));
    await Promise.all(stale.map((n) => rm(join(this.dir, n), { force: true })));
    return stale.length;
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

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
