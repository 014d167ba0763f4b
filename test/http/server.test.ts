import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReadyResult } from '../../src/http/readiness.js';
import {
  HEADERS_TIMEOUT_MS,
  type HttpServer,
  type HttpServerOptions,
  MAX_CONNECTIONS,
  startHttpServer,
} from '../../src/http/server.js';
import { emptySnapshot, type HealthSnapshot } from '../../src/http/snapshot.js';
import { backstop } from '../helpers/backstop.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { captureLog } from '../helpers/logCapture.js';

const servers: HttpServer[] = [];

/** Resolve when the async predicate holds (checked on the event loop's check phase), bounded. */
async function until(pred: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + backstop(timeoutMs);
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setImmediate(r));
  }
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

type Opts = Partial<Pick<HttpServerOptions, 'snapshot' | 'ready' | 'readyTimeoutMs' | 'closeGraceMs'>> &
  Partial<Pick<HttpServerOptions, 'clock' | 'maxConnections' | 'headersTimeoutMs'>>;

async function start(opts: Opts = {}) {
  const { log, lines: logged } = captureLog();
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    log,
    snapshot: opts.snapshot ?? (() => emptySnapshot('test')),
    ready: opts.ready ?? (async () => ({ ready: true, checks: { database: { ok: true } } })),
    ...opts,
  });
  servers.push(server);
  return { server, logged };
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw node:http request (fetch hides HEAD bodies and keep-alive details). */
function call(url: string, method = 'GET', agent?: Agent): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ...(agent ? { agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function busySnapshot(): HealthSnapshot {
  const s = emptySnapshot('production');
  s.market.open = true;
  s.feed.trades = 42;
  s.publish = { ...s.publish, state: 'catching-up', stream: 'CANDLES', published: 900, republished: 300 };
  s.publish.duplicates = 2;
  s.publish.failed = 4;
  s.publish.pending = 77;
  s.feed.invalidMessages = { bad_price: 3, json: 1 };
  s.feed.lagP50Ms = 12;
  s.feed.lagP99Ms = 250;
  s.feed.reconnectsToday = 2;
  s.feed.gapsToday = 1;
  s.feed.reconnects = 5;
  s.feed.gaps = 3;
  s.feed.lag = { le: [0, 0.003, 0.015], cumulative: [1, 4, 9], count: 10, sumSeconds: 2.5 };
  s.symbolLastTradeAt = { AAPL: '2024-07-03T14:00:01.000Z', MSFT: '2024-07-03T13:59:00.000Z' };
  s.aggregate.candles1s = 17;
  s.aggregate.candles100t = 4;
  s.sink.bufferedRows = 123;
  s.sink.lastWriteAt = '2024-07-03T14:00:00.000Z';
  s.eventLoop.delayP99Ms = 21.5;
  s.feed.unsubscribedTrades = 50_000;
  s.feed.backpressure = { held: true, sinkHolds: 2, sinkHeldMs: 1_500, loopPauses: 7, loopPausedMs: 250 };
  return s;
}

describe('health server routes', () => {
  it('answers /healthz with ok, and HEAD with the same headers and no body', async () => {
    const { server } = await start();
    const get = await call(`${server.url}/healthz`);
    expect(get.status).toBe(200);
    expect(get.body).toBe('ok\n');
    expect(get.headers['cache-control']).toBe('no-store');
    const head = await call(`${server.url}/healthz`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe('3');
  });

  it('serves the snapshot as JSON on /health, read at request time', async () => {
    let snap = emptySnapshot('local');
    const { server } = await start({ snapshot: () => snap });
    const first = await call(`${server.url}/health`);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(first.body)).toEqual(emptySnapshot('local'));
    snap = busySnapshot();
    const second = JSON.parse((await call(`${server.url}/health?verbose=1`)).body) as HealthSnapshot;
    expect(second.feed.trades).toBe(42);
    expect(second.mode).toBe('production');
  });

  it('returns 200 or 503 from /readyz with the checks as JSON', async () => {
    let result: ReadyResult = { ready: true, checks: { database: { ok: true } } };
    const { server } = await start({ ready: async () => result });
    const ok = await call(`${server.url}/readyz`);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual(result);
    result = {
      ready: false,
      checks: { database: { ok: true }, feed: { ok: false, detail: 'no trade for 130 s' } },
    };
    const down = await call(`${server.url}/readyz`);
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toEqual(result);
  });

  it('answers 503 when ready() throws or outlives its timeout', async () => {
    let mode: 'throw' | 'hang' = 'throw';
    const { server } = await start({
      readyTimeoutMs: 50,
      ready: () =>
        mode === 'throw' ? Promise.reject(new Error('pool closed')) : new Promise<never>(() => {}),
    });
    const thrown = await call(`${server.url}/readyz`);
    expect(thrown.status).toBe(503);
    expect(thrown.body).toContain('pool closed');
    mode = 'hang';
    const hung = await call(`${server.url}/readyz`);
    expect(hung.status).toBe(503);
    expect(hung.body).toContain('took over 50 ms');
  });

  it('exports Prometheus metrics read from the snapshot at scrape time', async () => {
    let snap = busySnapshot();
    const clock = new FakeClock(0);
    const { server } = await start({ snapshot: () => snap, clock });
    const res = await call(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(text).toMatch(/^# TYPE tick_collector_trades_total counter$/m);
    expect(text).toMatch(/^tick_collector_trades_total 42$/m);
    expect(text).toMatch(/^tick_collector_invalid_messages_total\{reason="bad_price"\} 3$/m);
    expect(text).toMatch(/^tick_collector_invalid_messages_total\{reason="json"\} 1$/m);
    expect(text).toMatch(/^tick_collector_candles_written_total\{kind="1s"\} 17$/m);
    expect(text).toMatch(/^tick_collector_candles_written_total\{kind="100t"\} 4$/m);
    expect(text).toMatch(/^# TYPE tick_collector_feed_lag_seconds histogram$/m);
    expect(text).toMatch(/^tick_collector_feed_lag_seconds_bucket\{le="0.003"\} 4$/m);
    expect(text).toMatch(/^tick_collector_feed_lag_seconds_bucket\{le="\+Inf"\} 10$/m);
    expect(text).toMatch(/^tick_collector_feed_lag_seconds_sum 2.5$/m);
    expect(text).toMatch(/^tick_collector_feed_lag_seconds_count 10$/m);
    expect(text).toMatch(/^tick_collector_sink_buffer_rows 123$/m);
    expect(text).toMatch(/^tick_collector_event_loop_delay_p99_seconds 0.0215$/m);
    // Totals since start, not the daily numbers /health shows: counters never reset while we run.
    expect(text).toMatch(/^tick_collector_feed_reconnects_total 5$/m);
    expect(text).toMatch(/^tick_collector_feed_gaps_total 3$/m);
    expect(text).toMatch(/^tick_collector_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);
    expect(text).toMatch(/^tick_collector_symbol_last_trade_timestamp_seconds\{symbol="AAPL"\} 1720015201$/m);
    expect(text).toMatch(/^tick_collector_market_open 1$/m);
    expect(text).toMatch(/^tick_collector_info\{mode="production"\} 1$/m);
    expect(text).toMatch(/^tick_collector_sink_last_write_timestamp_seconds 1720015200$/m);
    expect(text).toMatch(/^tick_collector_feed_unsubscribed_trades_total 50000$/m);
    expect(text).toMatch(/^tick_collector_feed_held 1$/m);
    expect(text).toMatch(/^tick_collector_feed_backpressure_pauses_total\{cause="sink"\} 2$/m);
    expect(text).toMatch(/^tick_collector_feed_backpressure_pauses_total\{cause="loop"\} 7$/m);
    expect(text).toMatch(/^tick_collector_feed_backpressure_seconds_total\{cause="sink"\} 1.5$/m);
    expect(text).toMatch(/^tick_collector_feed_backpressure_seconds_total\{cause="loop"\} 0.25$/m);
    // prom-client spells it "Nan"; Prometheus parses NaN case-insensitively.
    expect(text).toMatch(/^tick_collector_feed_last_trade_age_seconds nan$/im);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^tick_collector_publish_messages_total 900$/m);
    expect(text).toMatch(/^tick_collector_publish_republished_messages_total 300$/m);
    expect(text).toMatch(/^tick_collector_publish_duplicate_messages_total 2$/m);
    expect(text).toMatch(/^tick_collector_publish_failed_total 4$/m);
    expect(text).toMatch(/^tick_collector_publish_pending_rows 77$/m);
    expect(text).toMatch(/^tick_collector_publish_up 1$/m);

    snap = emptySnapshot('local');
    snap.feed.trades = 43;
    await clock.advance(1_000); // past the render cache
    const again = (await call(`${server.url}/metrics`)).body;
    expect(again).toMatch(/^tick_collector_trades_total 43$/m);
    expect(again).toMatch(/^tick_collector_market_open 0$/m);
    expect(again).toMatch(/^tick_collector_publish_up 0$/m);
    // Reasons and symbols that vanished from the snapshot vanish from the scrape.
    expect(again).not.toContain('reason="bad_price"');
    expect(again).not.toContain('symbol="AAPL"');
  });

  it('renders /metrics at most once per cache period, however many scrape (concurrent ones share it)', async () => {
    let snapshots = 0;
    const clock = new FakeClock(0);
    const { server } = await start({
      clock,
      snapshot: () => {
        snapshots++;
        const s = emptySnapshot('test');
        s.feed.trades = snapshots;
        return s;
      },
    });
    const burst = await Promise.all(Array.from({ length: 50 }, () => call(`${server.url}/metrics`)));
    expect(burst.every((r) => r.status === 200 && /^tick_collector_trades_total 1$/m.test(r.body))).toBe(
      true,
    );
    await clock.advance(999);
    expect((await call(`${server.url}/metrics`)).body).toMatch(/^tick_collector_trades_total 1$/m);
    expect(snapshots).toBe(1);
    await clock.advance(1);
    expect((await call(`${server.url}/metrics`)).body).toMatch(/^tick_collector_trades_total 2$/m);
    // /health stays live: it is one JSON.stringify, and probes must see the state now.
    expect(JSON.parse((await call(`${server.url}/health`)).body).feed.trades).toBe(3);
  });

  it('answers 404 for unknown paths and 405 with Allow for other methods', async () => {
    const { server } = await start();
    expect((await call(`${server.url}/nope`)).status).toBe(404);
    const post = await call(`${server.url}/metrics`, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('turns a throwing snapshot() into 500s with one rate-limited log line, and keeps serving', async () => {
    const { server, logged } = await start({
      snapshot: () => {
        throw new Error('feed stats exploded');
      },
    });
    for (let i = 0; i < 5; i++) {
      const h = await call(`${server.url}/health`);
      expect(h.status).toBe(500);
      expect(h.body).toContain('feed stats exploded');
      expect((await call(`${server.url}/metrics`)).status).toBe(500);
    }
    expect((await call(`${server.url}/healthz`)).status).toBe(200);
    const failures = logged.filter((l) => l.msg.startsWith('health snapshot failed'));
    expect(failures).toHaveLength(1);
    expect(failures[0]?.level).toBe('error');
    expect(failures[0]?.err).toMatchObject({ message: 'feed stats exploded' });
  });

  it('answers a malformed request with 400 and stays up', async () => {
    const { server } = await start();
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('THIS IS NOT HTTP\r\n\r\n');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await once(socket, 'close');
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect((await call(`${server.url}/healthz`)).status).toBe(200);
  });

  it('advertises a keep-alive timeout longer than a 60 s proxy idle timeout', async () => {
    const { server } = await start();
    const agent = new Agent({ keepAlive: true });
    const res = await call(`${server.url}/healthz`, 'GET', agent);
    expect(res.headers['keep-alive']).toBe('timeout=65');
    agent.destroy();
  });
});

describe('health server under hostile clients', () => {
  /** A connected raw socket and its close, listened for at once (the server may cut it any moment). */
  const idle = async (port: number) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const closed = once(socket, 'close');
    socket.resume(); // read (and drop) whatever comes, or a 400 and its FIN would sit unread
    await once(socket, 'connect');
    return { socket, closed };
  };

  it('cuts a connection that sends no request within the headers timeout (seconds, not 85 s)', async () => {
    expect(HEADERS_TIMEOUT_MS).toBeLessThanOrEqual(10_000);
    const { server } = await start({ headersTimeoutMs: 100 });
    const t0 = performance.now();
    const silent = await idle(server.port);
    const slow = await idle(server.port);
    slow.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n'); // headers begun, never finished (slowloris)
    await Promise.all([silent.closed, slow.closed]);
    // Node looks for expired headers on an interval (default 30 s): ours is bounded by the timeout itself.
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect((await call(`${server.url}/healthz`)).status).toBe(200);
  });

  it('caps open connections: beyond the cap a new one is dropped at once, and the log says so once', async () => {
    expect(MAX_CONNECTIONS).toBeLessThanOrEqual(1_000);
    const { server, logged } = await start({ maxConnections: 5 });
    const held = await Promise.all(Array.from({ length: 5 }, () => idle(server.port)));
    const extra = await Promise.all(Array.from({ length: 3 }, () => idle(server.port)));
    await Promise.all(extra.map((s) => s.closed));
    expect(held.every((s) => !s.socket.destroyed)).toBe(true);
    for (const s of held) s.socket.destroy();
    await Promise.all(held.map((s) => s.closed));
    await until(async () => (await call(`${server.url}/healthz`).catch(() => null))?.status === 200);
    expect(logged.filter((l) => l.msg.startsWith('health server at its connection cap'))).toHaveLength(1);
  });
});

describe('health server lifecycle', () => {
  it('rejects when the port is taken', async () => {
    const { server } = await start();
    const { log } = captureLog();
    await expect(
      startHttpServer({
        port: server.port,
        host: '127.0.0.1',
        log,
        snapshot: () => emptySnapshot(),
        ready: async () => ({ ready: true, checks: {} }),
      }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('close() ends idle keep-alive sockets and stops accepting', async () => {
    const { server } = await start();
    const agent = new Agent({ keepAlive: true });
    expect((await call(`${server.url}/healthz`, 'GET', agent)).status).toBe(200);
    const sockets = Object.values(agent.freeSockets).flat();
    expect(sockets).toHaveLength(1);
    const closed = once(sockets[0]!, 'close');
    await server.close();
    await closed;
    await expect(call(`${server.url}/healthz`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await server.close(); // idempotent
    agent.destroy();
  });

  it('close() cuts a request still in flight after the grace period', async () => {
    let entered!: () => void;
    const inReady = new Promise<void>((r) => {
      entered = r;
    });
    const { server } = await start({
      readyTimeoutMs: 60_000,
      closeGraceMs: 50,
      ready: () => {
        entered();
        return new Promise<never>(() => {});
      },
    });
    const pending = call(`${server.url}/readyz`);
    await inReady;
    await server.close();
    await expect(pending).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});
