// The loop ends at the deadline or on abort whatever it is doing, and never tries again afterwards;
// a rejected token is said once and retried only after the long backoff.
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fakeClock.js';
import { FakeEodhd, until } from '../helpers/wsServer.js';
import { type FeedHandle, startFeed } from './support.js';

const T0 = Date.UTC(2025, 0, 6, 20, 59, 0);
let server: FakeEodhd | undefined;
let feed: FeedHandle | undefined;

afterEach(async () => {
  await feed?.stop();
  feed = undefined;
  await server?.close();
  server = undefined;
});

/** A TCP server that accepts and never answers: a WebSocket handshake that hangs. */
async function blackHole(): Promise<{ url: string; server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const srv = createServer((s) => {
    s.on('error', () => {});
    sockets.push(s);
  });
  srv.on('error', () => {});
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}/ws/us`, server: srv, sockets };
}

describe('deadline', () => {
  it('mid-stream: returns at the deadline, closes the socket, no reconnect, no gap', async () => {
    server = await FakeEodhd.start();
    const clock = new FakeClock(T0);
    feed = startFeed({ url: server.url, clock, deadline: T0 + 60_000, heartbeatIntervalMs: 600_000 });
    await server.waitFor(() => server!.subscribes.length === 1);
    server.trade('AAPL', { t: T0 });
    await until(() => feed!.trades.length === 1);
    await clock.advance(60_000);
    const r = await feed.done;
    expect(r).toMatchObject({ endedBy: 'deadline', trades: 1, gaps: 0, connects: 1 });
    await server.waitFor(() => server!.clients.size === 0, 5000, 'client gone');
    expect(server.connections).toBe(1);
    expect(feed.stats.state).toBe('stopped');
  });

  it('mid-backoff: returns at the deadline (not after the backoff), reports the open gap up to it', async () => {
    server = await FakeEodhd.start();
    const clock = new FakeClock(T0);
    feed = startFeed({
      url: server.url,
      clock,
      deadline: T0 + 60_000,
      heartbeatIntervalMs: 600_000,
      reconnectBaseMs: 3_600_000,
      reconnectMaxMs: 3_600_000,
      random: () => 0.99,
    });
    await server.waitFor(() => server!.subscribes.length === 1);
    await clock.advance(10_000);
    server.dropAll();
    await until(() => feed!.stats.state === 'backoff');
    await clock.advance(50_000);
    const r = await feed.done;
    expect(r.endedBy).toBe('deadline');
    expect(feed.stats.connectAttempts).toBe(1);
    expect(feed.gaps).toEqual([
      {
        symbol: '*',
        symbols: ['AAPL', 'MSFT'],
        startedAt: T0 + 10_000,
        endedAt: T0 + 60_000,
        reason: 'closed 1006 (until stop)',
      },
    ]);
  });

  it('mid-connect (handshake never answered): returns at the deadline', async () => {
    const hole = await blackHole();
    const clock = new FakeClock(T0);
    try {
      feed = startFeed({ url: hole.url, clock, deadline: T0 + 5_000, heartbeatIntervalMs: 15_000 });
      await until(() => hole.sockets.length === 1, 5000, 'tcp connect');
      expect(feed.stats.state).toBe('connecting');
      await clock.advance(5_000);
      expect((await feed.done).endedBy).toBe('deadline');
      expect(feed.stats.connectAttempts).toBe(1);
    } finally {
      for (const s of hole.sockets) s.destroy();
      await new Promise((r) => hole.server.close(r));
    }
  });

  it('already past: returns at once without connecting', async () => {
    server = await FakeEodhd.start();
    feed = startFeed({ url: server.url, deadline: Date.now() - 1 });
    expect((await feed.done).endedBy).toBe('deadline');
    expect(feed.stats.connectAttempts).toBe(0);
    expect(server.connections).toBe(0);
  });
});

describe('abort', () => {
  it('mid-stream: returns promptly with endedBy aborted', async () => {
    server = await FakeEodhd.start();
    feed = startFeed({ url: server.url });
    await server.waitFor(() => server!.subscribes.length === 1);
    const r = await feed.stop();
    expect(r.endedBy).toBe('aborted');
    await server.waitFor(() => server!.clients.size === 0, 5000, 'client gone');
    expect(server.connections).toBe(1);
  });

  it('mid-backoff against a refused port: returns promptly, one gap until the stop', async () => {
    server = await FakeEodhd.start();
    const url = server.url;
    await server.close();
    server = undefined;
    feed = startFeed({ url, reconnectBaseMs: 3_600_000, reconnectMaxMs: 3_600_000 });
    await until(() => feed!.stats.state === 'backoff');
    const r = await feed.stop();
    expect(r.endedBy).toBe('aborted');
    expect(feed.stats.connectAttempts).toBe(1);
    expect(feed.gaps).toHaveLength(1);
    expect(feed.gaps[0]!.reason).toMatch(/ECONNREFUSED/);
    expect(feed.lines.filter((l) => l.event === 'feed.connect_failed')).toHaveLength(1);
  });
});

describe('rejected token', () => {
  it('says so once with the fix, backs off authFailureBackoffMs, few attempts over 30 min', async () => {
    server = await FakeEodhd.start({ token: 'right' });
    const clock = new FakeClock(T0);
    const backoff = 300_000;
    feed = startFeed({
      url: server.url,
      token: 'wrong',
      clock,
      authFailureBackoffMs: backoff,
      heartbeatIntervalMs: 600_000,
    });
    const end = T0 + 30 * 60_000;
    for (;;) {
      const srv = server;
      await until(
        () =>
          srv.connections > 0 &&
          feed!.stats.authFailures === srv.connections &&
          feed!.stats.state === 'backoff',
        5000,
        'backoff',
      );
      if (clock.now() >= end) break;
      await clock.advanceTo(Math.min(end, clock.nextDeadline ?? end));
    }
    // 30 min / 5 min backoff: the first attempt plus one per backoff.
    expect(server.connections).toBeLessThanOrEqual(7);
    expect(server.connections).toBeGreaterThanOrEqual(6);
    const rejected = feed.lines.filter((l) => l.event === 'feed.rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.msg).toContain('EODHD_API_TOKEN');
    expect(feed.lines.map((l) => l.event ?? l.msg)).toEqual([
      'feed starting: 2 symbols over 1 connection(s)',
      'feed.rejected',
    ]);
    // One outage, not one per attempt: it is reported when the feed stops.
    expect(feed.gaps).toHaveLength(0);
    await feed.stop();
    expect(feed.gaps).toMatchObject([{ startedAt: T0, endedAt: end, reason: 'status 403 (until stop)' }]);
  });

  it('a 422 demo-symbols frame is a rejection too, with the demo symbols in the message', async () => {
    server = await FakeEodhd.start();
    server.rejectWith = JSON.stringify({
      status_code: 422,
      message: 'Only limited symbols allowed for demo',
    });
    const clock = new FakeClock(T0);
    feed = startFeed({ url: server.url, clock, heartbeatIntervalMs: 600_000 });
    await until(() => feed!.stats.authFailures === 1 && feed!.stats.state === 'backoff');
    await clock.advance(299_999);
    expect(server.connections).toBe(1);
    await clock.advance(1);
    await until(() => feed!.stats.authFailures === 2);
    const rejected = feed.lines.filter((l) => l.event === 'feed.rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.msg).toContain('AAPL, MSFT, TSLA');
  });

  it('an HTTP 401 on the upgrade is a rejection (logged once, long backoff)', async () => {
    let upgrades = 0;
    const http = createHttpServer((_req, res) => res.writeHead(404).end());
    http.on('upgrade', (_req, socket) => {
      upgrades++;
      socket.on('error', () => {});
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${(http.address() as { port: number }).port}/ws/us`;
    const clock = new FakeClock(T0);
    try {
      feed = startFeed({ url, clock, heartbeatIntervalMs: 600_000 });
      await until(() => feed!.stats.authFailures === 1 && feed!.stats.state === 'backoff');
      expect(clock.nextDeadline! - clock.now()).toBe(300_000);
      await clock.advance(300_000);
      await until(() => feed!.stats.authFailures === 2 && feed!.stats.state === 'backoff');
      expect(upgrades).toBe(2);
      expect(feed.lines.filter((l) => l.event === 'feed.rejected')).toHaveLength(1);
      await feed.stop();
    } finally {
      await new Promise((r) => http.close(r));
    }
  });
});
