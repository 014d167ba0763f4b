// A spool file is deleted only once its rows are settled: a crash (or a stop) mid-replay leaves it for
// the next start instead of losing it.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { nullLogger } from '../../../src/log/logger.js';
import { RateLimitedLog } from '../../../src/log/rateLimit.js';
import type { SinkSettings, SinkStats } from '../../../src/store/sink/sinkTypes.js';
import { Spool } from '../../../src/store/sink/spool.js';
import { SpoolReplay } from '../../../src/store/sink/spoolReplay.js';
import { sec } from '../candles.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(write: (rows: object[]) => Promise<boolean>) {
  const dir = mkdtempSync(join(tmpdir(), 'tc-replay-'));
  dirs.push(dir);
  const spool = new Spool(dir);
  const stats = { connected: true, bufferedRows: 0, replayedRows: 0, spooledRows: 0 } as SinkStats;
  let stopping = false;
  const writes: object[][] = [];
  let wrote!: () => void;
  const firstWrite = new Promise<void>((r) => (wrote = r));
  const start = () =>
    new SpoolReplay({
      pool: {} as pg.Pool, // not reached: stats.connected skips the probe
      spool,
      stats,
      clock: systemClock,
      log: nullLogger(),
      limited: new RateLimitedLog(nullLogger()),
      settings: { flushMs: 10, maxBufferRows: 1_000 } as SinkSettings,
      isStopping: () => stopping,
      spoolWrites: () => Promise.resolve(),
      write: (_table, rows) => {
        writes.push(rows);
        wrote();
        return write(rows);
      },
    });
  return { dir, spool, stats, writes, firstWrite, start, stop: () => (stopping = true) };
}

const spoolFiles = (dir: string) => readdirSync(join(dir, 'spool'));

describe('spool replay', () => {
  it('keeps the file while its rows are being written, deletes it once they are settled', async () => {
    let finish!: (ok: boolean) => void;
    const written = new Promise<boolean>((r) => (finish = r));
    const t = setup(() => written);
    await t.spool.write('candles_1s', [sec('KEEP', 1), sec('KEEP', 2)]);
    const replay = t.start();
    await t.firstWrite;
    expect(t.writes[0]).toHaveLength(2);
    expect(spoolFiles(t.dir)).toHaveLength(1); // a crash now would lose nothing
    t.stop(); // the loop ends after this file
    finish(true);
    replay.wake();
    await replay.done;
    expect(spoolFiles(t.dir)).toEqual([]);
    expect(t.stats.replayedRows).toBe(2);
  });

  it("removes an earlier run's unfinished .tmp files at start, never this process's own", async () => {
    const t = setup(async () => true);
    mkdirSync(join(t.dir, 'spool'));
    const stale = `1700000000000-${process.pid + 1}-000000-ticks.jsonl.tmp`;
    const own = `1700000000000-${process.pid}-000001-ticks.jsonl.tmp`;
    for (const f of [stale, own]) writeFileSync(join(t.dir, 'spool', f), '{"half":');
    const replay = t.start();
    t.stop();
    replay.wake();
    await replay.done;
    expect(spoolFiles(t.dir)).toEqual([own]);
    expect(t.writes).toEqual([]); // a .tmp is never replayed
  });

  it('a write cut short by the stop deadline leaves the file for the next start', async () => {
    const t = setup(async () => false);
    await t.spool.write('candles_100t', [sec('STAY', 1)]);
    const replay = t.start();
    await t.firstWrite;
    t.stop();
    replay.wake();
    await replay.done;
    expect(t.writes.length).toBeGreaterThan(0);
    expect(spoolFiles(t.dir)).toHaveLength(1);
    expect(t.stats.replayedRows).toBe(0);
  });
});
