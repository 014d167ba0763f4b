// Local mode as a new user meets it: nothing configured → embedded PGlite + simulated feed, a banner,
// candles stored under DATA_DIR, `tick-collector candles` shows them. A second run the same day resumes the
// incomplete 100-tick candles, so the tick series stays exact across a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli, runCliToEnd } from '../helpers/cli.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tc-local-'));
const env = { DATA_DIR: dataDir, PORT: '0', SIM_RATE: '2000', SYMBOLS: 'AAPL,MSFT' };

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function collect(minTrades: number): Promise<{ run: CliRun; received: number; fed: number }> {
  const run = runCli(['run'], env);
  const listening = await run.waitForLog(
    (l) => l.component === 'http' && typeof l.port === 'number',
    'health',
  );
  const port = listening.port as number;
  // Until the daemon says it has them (no iteration cap: a loaded machine is slower, the test's timeout bounds it).
  for (;;) {
    const h = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { feed: { trades: number } };
    if (h.feed.trades >= minTrades) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  run.proc.kill('SIGINT');
  const exit = await run.exited;
  expect(exit.code).toBe(0);
  // Trades that count (the official open/close reports the simulator sends update nothing: in no candle).
  const ended = run.logs.find((l) => l.component === 'session' && typeof l.counted === 'number');
  const fed = run.logs.find((l) => l.component === 'feed' && typeof l.endedBy === 'string');
  expect(ended!.counted as number).toBe((fed!.trades as number) - (ended!.uncounted as number));
  expect(ended!.uncounted as number).toBeGreaterThan(0);
  return { run, received: ended!.counted as number, fed: fed!.trades as number };
}

interface Row {
  symbol: string;
  seq?: number;
  tradeCount: number;
}

async function candles(kind: '1s' | '100t'): Promise<Row[]> {
  const r = await runCliToEnd(['candles', '--kind', kind, '--limit', '100000', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
}

const total = (rows: Row[]) => rows.reduce((a, r) => a + r.tradeCount, 0);

describe('local mode', () => {
  it('runs with nothing configured, stores candles, and resumes 100-tick candles after a restart', async () => {
    const first = await collect(1_500);
    const banner = first.run.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('LOCAL MODE'));
    expect(banner).toBeDefined();
    expect(first.run.logs.some((l) => l.mode === 'local' && String(l.msg).includes('embedded PGlite'))).toBe(
      true,
    );
    expect(first.fed).toBeGreaterThanOrEqual(1_500);
    expect(first.received).toBeGreaterThan(1_000);
    expect(total(await candles('1s'))).toBe(first.received);
    const ticks1 = await candles('100t');
    expect(total(ticks1)).toBe(first.received);
    const partialBefore = ticks1.filter((c) => c.tradeCount < 100);
    expect(partialBefore.length).toBeGreaterThan(0);

    const second = await collect(1_500);
    const all = first.received + second.received;
    expect(total(await candles('1s'))).toBe(all);
    const ticks = await candles('100t');
    expect(total(ticks)).toBe(all);
    // Per symbol: seq 0..k with no hole, every candle full but the last: the partial one was continued.
    for (const symbol of ['AAPL', 'MSFT']) {
      const mine = ticks.filter((c) => c.symbol === symbol).sort((a, b) => a.seq! - b.seq!);
      expect(mine.map((c) => c.seq)).toEqual(mine.map((_, i) => i));
      expect(mine.slice(0, -1).every((c) => c.tradeCount === 100)).toBe(true);
      const before = partialBefore.find((c) => c.symbol === symbol);
      if (before) expect(mine.find((c) => c.seq === before.seq)?.tradeCount).toBe(100);
    }
  }, 120_000);
});
