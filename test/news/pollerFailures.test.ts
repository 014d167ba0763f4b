// Feeds that fail the ways real ones do: status codes, Retry-After, timeouts, refused connections, broken
// XML. Asserts the schedule (fake clock), the per-host serialisation and how little reaches the log.

import type { ServerResponse } from 'node:http';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushMicrotasks } from '../helpers/fakeClock.js';
import { atLeast } from '../helpers/logCapture.js';
import { pgTestDb, type TestDb } from '../helpers/pg.js';
import {
  FeedServer,
  hangRoute,
  holdRoute,
  plainXmlRoute,
  stallBodyRoute,
  statusRoute,
} from './feedServer.js';
import { BROKEN_XML, rssFeed } from './fixtures.js';
import { advanceIfParked, HOUR, MIN, startPoller, T0 } from './harness.js';

let db: TestDb;
let pool: pg.Pool;
let server: FeedServer;
let refusedUrl: string;

beforeAll(async () => {
  db = await pgTestDb('news_failures');
  pool = db.pool({ max: 3 });
  server = await new FeedServer().start();
  server.routes.set('/ok', plainXmlRoute(rssFeed(), 'application/rss+xml'));
  server.routes.set('/f403', statusRoute(403));
  server.routes.set('/f404', statusRoute(404));
  server.routes.set('/f410', statusRoute(410));
  server.routes.set('/f500', statusRoute(500));
  server.routes.set('/f429', statusRoute(429, { 'Retry-After': '7200' }));
  server.routes.set('/f429bare', statusRoute(429));
  server.routes.set('/f503', statusRoute(503, { 'Retry-After': new Date(T0 + 3 * HOUR).toUTCString() }));
  server.routes.set('/broken', plainXmlRoute(BROKEN_XML));
  server.routes.set('/html', plainXmlRoute('<html><body>Cloudflare says hi</body></html>', 'text/html'));
  server.routes.set('/hang', hangRoute);
  server.routes.set('/stall', stallBodyRoute);
  // A port nobody listens on: connection refused.
  const closed = await new FeedServer().start();
  refusedUrl = closed.url('/feed');
  await closed.close();
});

afterAll(async () => {
  await server?.close();
  await db?.close();
});

describe('news poller failures', () => {
  it('first round: every failure is classified, backs off or honours Retry-After, and logs one summary', async () => {
    const paths = [
      '/ok',
      '/f403',
      '/f404',
      '/f410',
      '/f500',
      '/f429',
      '/f429bare',
      '/f503',
      '/broken',
      '/html',
    ];
    paths.push('/hang', '/stall');
    const feeds = [...paths.map((p) => server.url(p)), refusedUrl];
    // Long enough that a loaded machine answers /ok in time (200 ms once timed it out), short enough that
    // /hang and /stall time out quickly.
    const p = startPoller({ feeds, db: pool, timeoutMs: 1_500 });
    const events = await p.events.take(feeds.length);
    await p.stop();

    const byUrl = new Map(events.map((e) => [e.url, e]));
    const reason = (path: string) => byUrl.get(server.url(path))?.reason;
    const next = (path: string) => (byUrl.get(server.url(path))?.nextPollAt ?? 0) - T0;
    expect(paths.map(reason)).toEqual([
      null,
      '403',
      '404',
      '410',
      '500',
      '429',
      '429',
      '503',
      'malformed',
      'malformed',
      'timeout',
      'timeout',
    ]);
    expect(byUrl.get(refusedUrl)?.reason).toBe('refused');
    // Retry-After as seconds and as an HTTP date; otherwise the first backoff step is one interval.
    expect(next('/f429')).toBe(2 * HOUR);
    expect(next('/f503')).toBe(3 * HOUR);
    for (const path of ['/ok', '/f403', '/f404', '/f429bare', '/broken', '/hang'])
      expect(next(path)).toBe(5 * MIN);

    const loud = p.lines.filter((l) => atLeast(l, 'info'));
    expect(loud).toHaveLength(1);
    expect(loud[0]?.level).toBe('info');
    const host = new URL(server.url('/')).host;
    expect(loud[0]?.msg).toMatch(
      new RegExp(
        `^news: 1 feed ok, 12 failing: ${host}/f403 \\(403\\), ${host}/f404 \\(404\\), .*, … 4 more$`,
      ),
    );
    // Every failure is still visible at debug.
    expect(
      p.lines.filter((l) => l.msg === 'news feed poll failed' || l.msg === 'news feed unreadable'),
    ).toHaveLength(12);
    expect(p.stats.totals).toMatchObject({ polls: 13, ok: 1, failures: 12, unusualErrors: 0 });
  });

  it('backs off exponentially to 6 h, declares the feed dead once after 24 h, and notices it coming back', async () => {
    server.routes.set('/flaky', statusRoute(404));
    const p = startPoller({ feeds: [server.url('/flaky')], db: pool });
    const delays: number[] = [];
    let ev = await p.events.next();
    while (delays.length < 13) {
      delays.push((ev.nextPollAt - p.clock.now()) / MIN);
      await p.clock.advanceTo(ev.nextPollAt);
      ev = await p.events.next();
    }
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 360, 360, 360, 360, 360, 360]);
    // Failing since T0; the 11th failure (at 1715 min ≥ 24 h) made it dead.
    expect(p.stats.feeds[0]).toMatchObject({ state: 'dead', consecutiveFailures: 14, lastError: '404' });
    const deadLines = p.lines.filter((l) => /has failed for/.test(l.msg));
    expect(deadLines).toHaveLength(1);
    expect(deadLines[0]?.level).toBe('warn');

    server.routes.set('/flaky', plainXmlRoute(rssFeed(), 'application/rss+xml'));
    await p.clock.advanceTo(ev.nextPollAt);
    const back = await p.events.next();
    expect([back.outcome, back.state, back.nextPollAt - p.clock.now()]).toEqual(['ok', 'ok', 5 * MIN]);
    expect(p.stats.feeds[0]).toMatchObject({
      consecutiveFailures: 0,
      failingSince: null,
      lastOk: p.clock.now(),
    });
    expect(p.lines.filter((l) => /is back after/.test(l.msg))).toHaveLength(1);
    await p.stop();
  });

  it('50 failing polls put nothing at info/warn beyond the hourly summary and one dead notice per feed', async () => {
    const paths = ['/f403', '/f404', '/f500', '/f429', '/broken', '/ok'];
    const p = startPoller({ feeds: paths.map((x) => server.url(x)), db: pool });
    let failed = 0;
    while (failed < 50) {
      const ev = await p.events.next();
      if (ev.outcome === 'failed') failed++;
      await advanceIfParked(p.clock);
    }
    await p.stop();
    const elapsedHours = (p.clock.now() - T0) / HOUR;
    expect(elapsedHours).toBeGreaterThan(24);

    const loud = p.lines.filter((l) => atLeast(l, 'info'));
    const summaries = loud.filter((l) => l.summary === true);
    const dead = loud.filter((l) => /has failed for/.test(l.msg));
    expect(loud.length).toBe(summaries.length + dead.length);
    expect(summaries.every((l) => l.level === 'info' && l.msg.startsWith('news: '))).toBe(true);
    expect(summaries.length).toBeGreaterThan(0);
    expect(summaries.length).toBeLessThanOrEqual(1 + Math.floor(elapsedHours));
    expect(new Set(dead.map((l) => l.feed)).size).toBe(dead.length);
    expect(
      p.lines.filter((l) => l.msg === 'news feed poll failed' || l.msg === 'news feed unreadable').length,
    ).toBe(50);
  });

  it('sends one request at a time to a host, while other hosts proceed in parallel', async () => {
    const other = await new FeedServer().start();
    const heldA: ServerResponse[] = [];
    const heldB: ServerResponse[] = [];
    server.routes.set('/a1', holdRoute(heldA));
    server.routes.set('/a2', holdRoute(heldA));
    other.routes.set('/b1', holdRoute(heldB));
    const before = server.requests.length;
    // The real fetch, with each call recorded: every loop that is due calls fetch in the same tick, so once
    // two requests are on the wire the list shows every request that was started.
    const calls: string[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      calls.push(new URL(String(input)).pathname);
      return fetch(input, init);
    };
    const p = startPoller({
      feeds: [server.url('/a1'), server.url('/a2'), other.url('/b1')],
      db: pool,
      timeoutMs: 10_000,
      fetchImpl: recordingFetch,
    });
    try {
      await Promise.all([server.waitForRequests(before + 1), other.waitForRequests(1)]);
      // Both hosts are being fetched at once, but host A got only its first feed.
      expect(calls).toEqual(['/a1', '/b1']);
      expect(server.requests.slice(before).map((r) => r.path)).toEqual(['/a1']);
      expect([server.inFlight, other.inFlight]).toEqual([1, 1]);

      heldA.shift()!.writeHead(200, { 'Content-Type': 'application/rss+xml' }).end(rssFeed());
      await server.waitForRequests(before + 2);
      const second = server.requests[before + 1]!;
      expect([second.path, second.inFlight]).toEqual(['/a2', 1]);

      heldA.shift()!.writeHead(404).end();
      heldB.shift()!.writeHead(404).end();
      const events = await p.events.take(3);
      expect(calls).toEqual(['/a1', '/b1', '/a2']);
      expect(events.map((e) => e.url).sort()).toEqual(
        [server.url('/a1'), server.url('/a2'), other.url('/b1')].sort(),
      );
      expect(server.requests.slice(before).every((r) => r.inFlight === 1)).toBe(true);
    } finally {
      await p.stop();
      await other.close();
    }
  });

  it('with no feeds, runs (idle) until stopped rather than returning at once', async () => {
    const p = startPoller({ feeds: [], db: pool });
    let ended = false;
    void p.done.then(() => {
      ended = true;
    });
    await flushMicrotasks();
    expect(ended).toBe(false);
    await p.stop();
    expect(ended).toBe(true);
  });

  it('stops promptly during a hanging request without counting it as a failure', async () => {
    const before = server.requestsTo('/hang').length;
    const p = startPoller({ feeds: [server.url('/hang')], db: pool, timeoutMs: 60_000 });
    await server.waitForRequests(server.requests.length + 1);
    expect(server.requestsTo('/hang')).toHaveLength(before + 1);
    await p.stop();
    expect(p.stats.totals).toMatchObject({ polls: 0, failures: 0 });
    expect(p.events.all).toHaveLength(0);
  });
});
