// WEB_TOKEN: the page, its API, /health and /metrics need the token; the platform's probes do not. A
// browser opens /?token=… once (a cookie, then a redirect without the token); scripts send a Bearer header.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type HttpServer, startHttpServer } from '../../src/http/server.js';
import { createStartingPage } from '../../src/web/starting.js';
import { captureLog } from '../helpers/logCapture.js';

const TOKEN = 'a1b2c3d4e5f6a7b8c9d0';
let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
});

async function start(): Promise<string> {
  const web = createStartingPage({
    symbols: ['AAPL'],
    mode: 'local',
    candleIntervalMs: 1000,
    tickCandleSize: 100,
  });
  server = await startHttpServer({ port: 0, host: '127.0.0.1', log: captureLog().log, token: TOKEN, web });
  return server.url;
}

describe('WEB_TOKEN', () => {
  it('is off by default; a short or spaced token stops start-up naming it', () => {
    expect(loadConfig({}).webToken).toBeNull();
    expect(() => loadConfig({ WEB_TOKEN: 'short' })).toThrow(/WEB_TOKEN must be at least 16 characters/);
    expect(loadConfig({ WEB_TOKEN: TOKEN }).webToken).toBe(TOKEN);
  });

  it('leaves the probes open and refuses everything else without the token', async () => {
    const base = await start();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).not.toBe(401);
    for (const path of ['/', '/app.js', '/api/meta', '/api/state', '/health', '/metrics']) {
      const r = await fetch(`${base}${path}`);
      expect(r.status, path).toBe(401);
      expect(await r.text()).not.toContain(TOKEN);
    }
    expect(
      (await fetch(`${base}/api/meta`, { headers: { Authorization: 'Bearer wrong-token-000000' } })).status,
    ).toBe(401);
  });

  it('takes a Bearer header, or the token once in the address (then a cookie)', async () => {
    const base = await start();
    const bearer = await fetch(`${base}/api/meta`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(bearer.status).toBe(200);
    expect(((await bearer.json()) as { symbols: string[] }).symbols).toEqual(['AAPL']);

    const first = await fetch(`${base}/?symbol=AAPL&token=${TOKEN}`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/?symbol=AAPL');
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^tc_token=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const jar = cookie.split(';')[0]!;
    const page = await fetch(`${base}/?symbol=AAPL`, { headers: { Cookie: jar } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="chart">');
    expect((await fetch(`${base}/health`, { headers: { Cookie: jar } })).status).toBe(200);
    expect((await fetch(`${base}/?token=nope-nope-nope-nope`, { redirect: 'manual' })).status).toBe(401);
  });
});
