// Liveness: a half-open peer (silent, no pongs, no FIN) is found by the heartbeat within two intervals;
// a connected socket that stops delivering trades is resubscribed, then replaced.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fakeClock.js';
import { FakeEodhd, until } from '../helpers/wsServer.js';
import { type FeedHandle, startFeed } from './support.js';

let server: FakeEodhd;
let feed: FeedHandle | undefined;

beforeEach(async () => {
  server = await FakeEodhd.start();
});
afterEach(async () => {
  await feed?.stop();
  feed = undefined;
  await server.close();
});

describe('heartbeat', () => {
  it('finds a half-open peer within 2 heartbeat intervals and reconnects', async () => {
    const interval = 150;
    feed = startFeed({ url: server.url, heartbeatIntervalMs: interval });
    await server.waitFor(() => server.subscribes.length === 1);
    server.trade('AAPL');
    await until(() => feed!.trades.length === 1);
    server.halfOpen = true;
    const silentFrom = Date.now();
    await until(() => feed!.stats.deadSockets === 1, 10 * interval, 'dead socket');
    server.halfOpen = false;
    await server.waitFor(() => server.subscribesOn(2).length === 1, 5000, 'resubscribe');
    await until(() => feed!.gaps.length === 1);
    // The gap starts when the socket was declared dead: that is the detection time.
    const detectedMs = feed.gaps[0]!.startedAt - silentFrom;
    // Slack for timer lateness when the test files run in parallel on two cores.
    expect(detectedMs).toBeLessThanOrEqual(2 * interval + 60);
    expect(detectedMs).toBeGreaterThan(interval / 2);
    expect(feed.gaps[0]!.reason).toBe('no frame and no pong');
  });

  it('a peer that streams but never answers pings is ended within 3 intervals', async () => {
    const interval = 100;
    feed = startFeed({ url: server.url, heartbeatIntervalMs: interval });
    await server.waitFor(() => server.subscribes.length === 1);
    server.answerPings = false;
    const from = Date.now();
    const pump = setInterval(() => server.trade('AAPL'), 10);
    try {
      await until(() => feed!.stats.deadSockets === 1, 20 * interval, 'dead socket');
    } finally {
      clearInterval(pump);
    }
    const took = Date.now() - from;
    expect(feed.trades.length).toBeGreaterThan(5);
    expect(took).toBeGreaterThanOrEqual(2 * interval);
    expect(took).toBeLessThanOrEqual(3 * interval + 60);
    await until(() => feed!.gaps.length === 1);
    expect(feed.gaps[0]!.reason).toBe('no pong');
  });

  it('keeps a healthy socket that answers pings (no false positives)', async () => {
    const f = startFeed({ url: server.url, heartbeatIntervalMs: 50 });
    feed = f;
    await server.waitFor(() => server.subscribes.length === 1);
    let pings = 0;
    const [ws] = server.clients.keys();
    ws!.on('ping', () => pings++);
    await until(() => pings >= 8, 5000, '8 pings');
    expect(feed.stats.deadSockets).toBe(0);
    expect(server.connections).toBe(1);
    // Pongs are counted: the watchdog's proof of life when a quiet market sends no trades.
    await until(() => f.stats.pongs >= 7, 5000, '7 pongs');
    expect(f.stats.trades).toBe(0);
  });
});

describe('data staleness (injected clock)', () => {
  const start = Date.UTC(2025, 0, 6, 15, 0);
  const quiet = 60_000;

  it('no trades for dataStaleMs → resubscribe once; still silent → reconnect and subscribe again', async () => {
    const clock = new FakeClock(start);
    feed = startFeed({
      url: server.url,
      clock,
      dataStaleMs: quiet,
      heartbeatIntervalMs: 600_000,
      random: () => 0,
    });
    await server.waitFor(() => server.subscribes.length === 1);
    await clock.advance(quiet - 1);
    expect(server.subscribes).toHaveLength(1);
    await clock.advance(1);
    await server.waitFor(() => server.subscribesOn(1).length === 2, 5000, 'resubscribe on the same socket');
    expect(feed.stats.resubscribes).toBe(1);
    await clock.advance(quiet);
    await until(() => feed!.stats.staleReconnects === 1);
    await clock.advance(1); // the (zero-jitter) backoff sleep
    await server.waitFor(() => server.subscribesOn(2).length === 1, 5000, 'subscribe on a new socket');
    await until(() => feed!.gaps.length === 1);
    // The outage is counted from the last moment data was known to flow: the subscription.
    expect(feed.gaps[0]).toMatchObject({ startedAt: start, reason: 'no trades after resubscribe' });
  });

  it('a trade after the resubscribe keeps the socket', async () => {
    const clock = new FakeClock(start);
    feed = startFeed({ url: server.url, clock, dataStaleMs: quiet, heartbeatIntervalMs: 600_000 });
    await server.waitFor(() => server.subscribes.length === 1);
    await clock.advance(quiet);
    await server.waitFor(() => server.subscribes.length === 2);
    server.trade('AAPL', { t: clock.now() });
    await until(() => feed!.trades.length === 1);
    await clock.advance(quiet - 1);
    expect(feed.stats.staleReconnects).toBe(0);
    expect(server.connections).toBe(1);
  });

  it('outside the session, silence is not staleness', async () => {
    const clock = new FakeClock(start);
    feed = startFeed({
      url: server.url,
      clock,
      dataStaleMs: quiet,
      heartbeatIntervalMs: 600_000,
      inSession: () => false,
    });
    await server.waitFor(() => server.subscribes.length === 1);
    for (let i = 0; i < 5; i++) await clock.advance(quiet);
    expect(feed.stats.resubscribes).toBe(0);
    expect(server.subscribes).toHaveLength(1);
    expect(server.connections).toBe(1);
  });
});
