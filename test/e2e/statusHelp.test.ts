// What a newcomer reads first: `status` (the page's URL, whether a collector answers on PORT, what a run
// would do, never "collecting now" when nothing runs), the banner's page URL, and each command's --help
// (its own flags and the settings it reads, pointing to `run --help` for the rest).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, runCliToEnd } from '../helpers/cli.js';
import { freePort } from '../helpers/pg.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('status', () => {
  it('with nothing running: the page URL, no collector answering, what a run would do', async () => {
    const port = await freePort();
    const r = await runCliToEnd(['status'], { PORT: String(port), EODHD_API_TOKEN: 'abcdef123456' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`page:        http://127.0.0.1:${port}/`);
    expect(r.stdout).toContain(`collector:   none answering on PORT ${port}`);
    expect(r.stdout).not.toContain('0.0.0.0');
    expect(r.stdout).not.toContain('collecting now');
    expect(r.stdout).toContain('following the NYSE calendar');
  });

  it('with only DATABASE_URL: no feed, and never "--skip-market-hours" that was not given', async () => {
    const port = await freePort();
    const r = await runCliToEnd(['status'], {
      PORT: String(port),
      DATABASE_URL: `postgres://nobody:pw@127.0.0.1:${port}/none?sslmode=disable`,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('no feed configured');
    expect(r.stdout).not.toContain('--skip-market-hours');
    expect(r.stdout).not.toContain('collecting now');
    expect(r.stdout).not.toContain('pw@');
  });

  it('with a collector running on PORT: says so, and the banner gave the same page URL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tc-status-'));
    dirs.push(dataDir);
    const port = await freePort();
    const run = runCli(['run'], { PORT: String(port), DATA_DIR: dataDir });
    try {
      const banner = await run.waitForLog(
        (l) => String(l.msg).startsWith('tick-collector starting'),
        'banner',
      );
      expect(String(banner.msg)).toContain(`page:        http://127.0.0.1:${port}/`);
      expect(String(banner.msg)).not.toContain('0.0.0.0');
      const r = await runCliToEnd(['status', '--json'], { PORT: String(port), DATA_DIR: dataDir });
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as { page: string; collector: { running: boolean; mode: string } };
      expect(s.page).toBe(`http://127.0.0.1:${port}/`);
      expect(s.collector).toMatchObject({ running: true, mode: 'local' });
    } finally {
      run.proc.kill('SIGINT');
      await run.exited;
    }
  }, 60_000);
});

describe('--help', () => {
  it("a command's help: its flags, the settings it reads, and where the rest are", async () => {
    const r = await runCliToEnd(['export', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['--symbol', '--kind', '--format', '--output', 'DATABASE_URL', 'run --help'])
      expect(r.stdout).toContain(s);
    expect(r.stdout).not.toContain('HEARTBEAT_INTERVAL_MS');
    expect(r.stdout).not.toContain('SINK_BATCH_ROWS');
    expect(r.stdout.trim().split('\n').length).toBeLessThan(30);
    const backfill = await runCliToEnd(['backfill', '--help']);
    expect(backfill.stdout).toContain('EODHD_API_URL');
    expect(backfill.stdout).not.toContain('HEARTBEAT_INTERVAL_MS');
  });

  it("run's help lists every setting", async () => {
    const r = await runCliToEnd(['run', '--help']);
    for (const s of ['HEARTBEAT_INTERVAL_MS', 'SINK_BATCH_ROWS', 'WEB_TOKEN', 'DATABASE_URL'])
      expect(r.stdout).toContain(s);
  });
});
