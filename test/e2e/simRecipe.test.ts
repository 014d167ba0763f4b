// The README's simulator recipe, run as written: the block after `<!-- recipe: simulator` is read from
// README.md and each line done as a shell would (exports accumulate; `npx tick-collector …` runs the CLI in
// one scratch working directory, so `./data-sim` is relative to it). The two long-running commands (`sim`,
// `run`) are left running as the reader would leave them in their terminals; `run` is stopped (Ctrl-C) once
// it has written candles. Only the ports are swapped for free ones (the machine is shared).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli, runCliToEnd } from '../helpers/cli.js';
import { freePort } from '../helpers/pg.js';

function recipe(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const at = readme.indexOf('<!-- recipe: simulator');
  expect(at).toBeGreaterThan(0);
  const block = /```bash\n([\s\S]*?)```/.exec(readme.slice(at))![1]!;
  return block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

const cwd = mkdtempSync(join(tmpdir(), 'tc-recipe-'));
const running: CliRun[] = [];
afterAll(async () => {
  for (const r of running) {
    if (r.proc.exitCode === null && r.proc.signalCode === null) {
      r.proc.kill('SIGINT');
      await r.exited;
    }
  }
  rmSync(cwd, { recursive: true, force: true });
});

describe("the README's simulator recipe", () => {
  it('runs as written: a collector on the standalone simulator, then backfill and gaps', async () => {
    const [simPort, pagePort] = [await freePort(), await freePort()];
    const lines = recipe().map((l) =>
      l.replaceAll('8765', String(simPort)).replaceAll('8081', String(pagePort)),
    );
    expect(lines.map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual([
      'npx tick-collector sim',
      'export DATA_DIR=./data-sim EODHD_API_TOKEN=any',
      'npx tick-collector run',
      'npx tick-collector backfill',
      'npx tick-collector gaps',
    ]);
    const env: Record<string, string> = {};
    const outputs: Record<string, string> = {};
    for (const line of lines) {
      if (line.startsWith('export ')) {
        for (const kv of line.slice('export '.length).split(/\s+/)) {
          const [k, ...v] = kv.split('=');
          env[k!] = v.join('=');
        }
        continue;
      }
      expect(line.startsWith('npx tick-collector ')).toBe(true);
      const args = line.slice('npx tick-collector '.length).split(/\s+/);
      if (args[0] === 'sim') {
        const sim = runCli(args, { ...env }, cwd);
        running.push(sim);
        await sim.waitForLog((l) => typeof l.apiUrl === 'string', 'the simulator');
      } else if (args[0] === 'run') {
        const run = runCli(args, { ...env }, cwd);
        running.push(run);
        await run.waitForLog((l) => String(l.msg).startsWith('feed subscribed'), 'feed subscribed');
        // Ctrl-C once it has written candles (it reports what it wrote on its last line).
        for (;;) {
          const h = (await (await fetch(`http://127.0.0.1:${pagePort}/health`)).json()) as {
            sink: { rowsWritten: number };
          };
          if (h.sink.rowsWritten > 20) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        run.proc.kill('SIGINT');
        expect((await run.exited).code).toBe(0);
        // Its own data directory, not the local mode's ./data.
        expect(existsSync(join(cwd, 'data-sim'))).toBe(true);
        expect(existsSync(join(cwd, 'data'))).toBe(false);
      } else {
        const r = await runCliToEnd(args, { ...env }, cwd);
        expect(r.code, `${line}: ${r.stderr}`).toBe(0);
        outputs[args[0]!] = r.stdout;
      }
    }
    // The start and the stop of the run are gaps, both filled from the simulator's tape.
    expect(outputs.backfill).toMatch(/ start \[skip-market-hours\]: filled \d+ trades/);
    expect(outputs.backfill).toMatch(
      /\d+ gaps?: \d+ filled, 0 not loaded yet, 0 refused \(tape incomplete\), 0 failed/,
    );
    const rows = outputs.gaps!.trim().split('\n').slice(2);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    for (const row of rows) expect(row).toMatch(/\sfilled\s/);
  }, 180_000);
});
