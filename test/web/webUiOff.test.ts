// WEB_UI=false: the collector serves its health endpoints as ever and no page, no API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { runCli } from '../helpers/cli.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tc-webui-off-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('WEB_UI', () => {
  it('is on by default and off with WEB_UI=false or --web-ui=false', () => {
    expect(loadConfig({}).webUi).toBe(true);
    expect(loadConfig({ WEB_UI: 'false' }).webUi).toBe(false);
    expect(loadConfig({}, { '--web-ui': 'false' }).webUi).toBe(false);
  });

  it('=false leaves / and /api/ unanswered (404) and the health endpoints as they are', async () => {
    const run = runCli(['run'], { DATA_DIR: dataDir, PORT: '0', WEB_UI: 'false' });
    try {
      const l = await run.waitForLog((x) => x.component === 'http' && typeof x.port === 'number', 'http');
      const base = `http://127.0.0.1:${l.port as number}`;
      for (const path of [
        '/',
        '/app.js',
        '/vendor/lightweight-charts.mjs',
        '/api/meta',
        '/api/candles?symbol=AAPL',
      ]) {
        expect((await fetch(`${base}${path}`)).status, path).toBe(404);
      }
      expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
      expect(((await (await fetch(`${base}/health`)).json()) as { mode: string }).mode).toBe('local');
      expect((await fetch(`${base}/metrics`)).status).toBe(200);
    } finally {
      run.proc.kill('SIGINT');
      await run.exited;
    }
  }, 60_000);
});
