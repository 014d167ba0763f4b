// The web page's HTTP side on a real server and database: the files (gzip, ETag, CSP), the JSON API's
// answers and refusals, the event stream, and the health endpoints unchanged beside it.
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeedStats } from '../../src/feed/stats.js';
import { type HttpServer, startHttpServer } from '../../src/http/server.js';
import { emptySnapshot, type HealthSnapshot } from '../../src/http/snapshot.js';
import { readBars } from '../../src/store/read/timeframes.js';
import { upsertSecondCandles } from '../../src/store/write/writeCandles.js';
import { upsertGaps } from '../../src/store/write/writeGaps.js';
import { createWebUi, type WebUi } from '../../src/web/index.js';
import { captureLog } from '../helpers/logCapture.js';
import { pgTestDb, type TestDb } from '../helpers/pg.js';
import { sec, T0 } from '../store/candles.js';

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

function call(url: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString() });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const json = (r: Res) => JSON.parse(r.text) as Record<string, unknown>;

const SECRET_TOKEN = 'sekr3t-token-value';
const DB_URL = 'postgres://collector:hunter2pass@db.internal:5432/ticks';

describe('web page and API', () => {
  let db: TestDb;
  let web: WebUi;
  let server: HttpServer;
  let base: string;
  let snapshot: HealthSnapshot;

  beforeAll(async () => {
    db = await pgTestDb('webapi');
    await upsertSecondCandles(
      db.admin,
      Array.from({ length: 30 }, (_, i) => sec('AAPL', i, 3, 100 + i)),
    );
    // MSFT over ten minutes (its 1m bars come from candles_1m's triggers), one of its seconds volume-only.
    await upsertSecondCandles(db.admin, [
      ...Array.from({ length: 47 }, (_, i) => sec('MSFT', i * 13, 2, 200 + (i % 5))),
      { ...sec('MSFT', 611, 1), open: null, high: null, low: null, close: null, vwap: null },
    ]);
    await upsertGaps(db.admin, [
      { symbol: '*', startedAt: T0 + 5_000, endedAt: T0 + 8_000, reason: 'closed 1006' },
    ]);
    const { log } = captureLog();
    snapshot = emptySnapshot('test');
    // An error text that carries the secrets: the page must never show them.
    snapshot.sink.lastError = `connect to ${DB_URL} failed (token ${SECRET_TOKEN})`;
    web = createWebUi({
      pool: db.admin,
      symbols: ['AAPL', 'MSFT'],
      mode: 'test',
      candleIntervalMs: 1000,
      tickCandleSize: 100,
      snapshot: () => snapshot,
      feed: () => createFeedStats(),
      log,
      secrets: [SECRET_TOKEN, DB_URL],
      stream: { flushMs: 20, stateMs: 50 },
    });
    server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      log,
      web,
      snapshot: () => snapshot,
      ready: async () => ({ ready: true, checks: { database: { ok: true } } }),
    });
    base = server.url;
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  it('serves the page with its files, gzip, an ETag and a strict CSP', async () => {
    const page = await call(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('<script type="module" src="/app.js">');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe');

    const lib = await call(`${base}/vendor/lightweight-charts.mjs`, {
      headers: { 'Accept-Encoding': 'gzip' },
    });
    expect(lib.status).toBe(200);
    expect(lib.headers['content-encoding']).toBe('gzip');
    expect(lib.headers['content-type']).toMatch(/javascript/);
    expect(gunzipSync(lib.body).toString()).toContain('createChart');
    expect(lib.body.length).toBeLessThan(80_000);

    const again = await call(`${base}/app.js`, { headers: { 'If-None-Match': String(page.headers.etag) } });
    expect(again.status).toBe(200); // another file's ETag does not match
    const app = await call(`${base}/app.js`);
    const cached = await call(`${base}/app.js`, { headers: { 'If-None-Match': String(app.headers.etag) } });
    expect(cached.status).toBe(304);
    expect(cached.body.length).toBe(0);

    for (const path of ['/style.css', '/chart.js', '/format.js', '/favicon.svg']) {
      expect((await call(`${base}${path}`)).status, path).toBe(200);
    }
    // Only the listed files: no path reaches the disk.
    for (const path of ['/../package.json', '/vendor/lightweight-charts.d.mts', '/web/app.js', '/nope.js']) {
      expect((await call(`${base}${path}`)).status, path).toBe(404);
    }
    expect((await call(`${base}/`, { method: 'POST' })).status).toBe(405);
    expect((await call(`${base}/api/candles?symbol=AAPL`, { method: 'DELETE' })).status).toBe(405);
  });

  it('leaves the health endpoints as they were', async () => {
    expect((await call(`${base}/healthz`)).text).toBe('ok\n');
    expect((await call(`${base}/readyz`)).status).toBe(200);
    expect(json(await call(`${base}/health`)).mode).toBe('test');
    expect((await call(`${base}/metrics`)).text).toContain('tick_collector_uptime_seconds');
    expect((await call(`${base}/favicon.ico`)).status).toBe(404);
  });

  it('answers /api/meta with the symbols and kinds, and nothing secret', async () => {
    const meta = await call(`${base}/api/meta`);
    expect(json(meta)).toMatchObject({
      symbols: ['AAPL', 'MSFT'],
      kinds: ['1s', '100t', '1m', '5m', '1h', '1d'],
      mode: 'test',
    });
    expect(meta.headers['cache-control']).toBe('no-store');
    const state = await call(`${base}/api/state`);
    expect(state.status).toBe(200);
    expect(state.text).not.toContain(SECRET_TOKEN);
    expect(state.text).not.toContain('hunter2pass');
    expect(state.text).not.toContain(DB_URL);
    expect(json(state).health).toMatchObject({ sink: { lastError: 'connect to … failed (token …)' } });
    // A URL with credentials that is not the configured one loses them too (and a key in a query).
    snapshot.sink.lastError =
      'failed: postgres://other:pw@replica.internal/db; https://feeds.example/x?key=K3Y';
    expect(json(await call(`${base}/api/state`)).health).toMatchObject({
      sink: {
        lastError: 'failed: postgres://other:***@replica.internal/db; https://feeds.example/x?key=***',
      },
    });
    snapshot.sink.lastError = null;
  });

  it('answers /api/candles within bounds and refuses bad parameters', async () => {
    const r = json(await call(`${base}/api/candles?symbol=aapl&limit=5`));
    expect(r).toMatchObject({ symbol: 'AAPL', kind: '1s', more: true });
    const candles = r.candles as { bucket: number }[];
    expect(candles.map((c) => c.bucket)).toEqual([25, 26, 27, 28, 29].map((i) => T0 + i * 1000));
    const iso = new Date(T0 + 10_000).toISOString();
    const win = json(await call(`${base}/api/candles?symbol=AAPL&from=${T0}&to=${encodeURIComponent(iso)}`));
    expect((win.candles as unknown[]).length).toBe(10);
    const big = json(await call(`${base}/api/candles?symbol=AAPL&limit=99999999`));
    expect((big.candles as unknown[]).length).toBe(30);
    expect(json(await call(`${base}/api/candles?symbol=AAPL&kind=100t`)).candles).toEqual([]);

    for (const q of [
      '',
      'symbol=',
      'symbol=AA%20PL;DROP',
      'symbol=AAPL&kind=2m',
      'symbol=AAPL&kind=1M',
      'symbol=AAPL&limit=-1',
      'symbol=AAPL&limit=ten',
      'symbol=AAPL&from=yesterday',
      'symbol=AAPL&to=99999999999999999',
    ]) {
      const bad = await call(`${base}/api/candles?${q}`);
      expect(bad.status, q).toBe(400);
      expect(typeof json(bad).error).toBe('string');
    }
    expect((await call(`${base}/api/nope`)).status).toBe(404);
  });

  it('answers /api/candles for the bar kinds with what readBars reads, paged back like 1s', async () => {
    const to = T0 + 3_600_000;
    for (const kind of ['1m', '5m', '1h', '1d'] as const) {
      const r = json(await call(`${base}/api/candles?symbol=MSFT&kind=${kind}&from=${T0}&to=${to}`));
      const bars = await readBars(db.admin, {
        timeframe: kind,
        symbol: 'MSFT',
        from: T0,
        to,
        limit: 1000,
        order: 'asc',
      });
      expect(bars.length, kind).toBeGreaterThan(0);
      expect(r, kind).toEqual({
        symbol: 'MSFT',
        kind,
        candles: JSON.parse(JSON.stringify(bars)),
        more: false,
      });
    }
    // Eleven minutes hold a second of MSFT (the last only a volume-only one: a bar with no price).
    const all = json(await call(`${base}/api/candles?symbol=MSFT&kind=1m`));
    const minutes = all.candles as { bucket: number; open: number | null; volume: number }[];
    expect(minutes.map((b) => b.bucket)).toEqual(Array.from({ length: 11 }, (_, i) => T0 + i * 60_000));
    expect(minutes.at(-1)).toMatchObject({ open: null, volume: 10 });
    // The latest `limit` bars, oldest first, and paging back from the first one's bucket.
    const last3 = json(await call(`${base}/api/candles?symbol=MSFT&kind=1m&limit=3`));
    expect(last3.more).toBe(true);
    expect(last3.candles).toEqual(minutes.slice(-3));
    const first = (last3.candles as { bucket: number }[])[0]!.bucket;
    const older = json(await call(`${base}/api/candles?symbol=MSFT&kind=1m&to=${first}&limit=100`));
    expect(older).toMatchObject({ more: false, candles: minutes.slice(0, -3) });
    expect(json(await call(`${base}/api/candles?symbol=AAPL&kind=1h`)).candles).toHaveLength(1);
    // The stream carries only the collector's own candles.
    expect((await call(`${base}/api/stream?symbol=MSFT&kind=1m`)).status).toBe(400);
  });

  it('answers /api/gaps for a New York date or a window', async () => {
    const day = json(await call(`${base}/api/gaps?date=2024-07-03`));
    expect(day.date).toBe('2024-07-03');
    expect(day.from).toBe(Date.parse('2024-07-03T04:00:00Z'));
    expect((day.gaps as { reason: string }[]).map((g) => g.reason)).toEqual(['closed 1006']);
    expect(day.gaps).toEqual([
      expect.objectContaining({ symbol: '*', startedAt: T0 + 5_000, endedAt: T0 + 8_000, filledAt: null }),
    ]);
    const win = json(await call(`${base}/api/gaps?symbol=AAPL&from=${T0}&to=${T0 + 6_000}`));
    expect((win.gaps as unknown[]).length).toBe(1);
    expect(json(await call(`${base}/api/gaps?date=2024-07-04`)).gaps).toEqual([]);
    for (const q of [
      'date=July',
      'date=2024-13-45',
      `from=${T0}&to=${T0 - 1}`,
      `from=${T0}&to=${T0 + 40 * 86_400_000}`,
    ]) {
      expect((await call(`${base}/api/gaps?${q}`)).status, q).toBe(400);
    }
  });

  it('streams state and the candles pushed to it, for the chosen symbol and kind', async () => {
    const events: { event: string; data: unknown }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const req = request(`${base}/api/stream?symbol=AAPL&kind=1s`, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(/text\/event-stream/);
        let buf = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          buf += chunk;
          let i = buf.indexOf('\n\n');
          while (i >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
            i = buf.indexOf('\n\n');
          }
          if (events.some((e) => e.event === 'candles')) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (err) => {
        if (!events.some((e) => e.event === 'candles')) reject(err);
      });
      req.end();
    });
    // Once the stream is registered, the aggregators' output reaches it (no cap on the wait: pushing
    // before it is registered would leave the test waiting for candles that went nowhere).
    while (web.stream.stats.clients === 0) await new Promise((r) => setTimeout(r, 10));
    web.push(sec('MSFT', 1));
    web.push(sec('AAPL', 100));
    await done;
    expect(events[0]!.event).toBe('state');
    expect(JSON.stringify(events[0]!.data)).not.toContain(SECRET_TOKEN);
    const batch = events.find((e) => e.event === 'candles')!.data as { symbol: string }[];
    expect(batch.map((c) => c.symbol)).toEqual(['AAPL']);
    expect((await call(`${base}/api/stream`)).status).toBe(400);
    const head = await call(`${base}/api/stream?symbol=AAPL`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toMatch(/text\/event-stream/);
  });
});
