// A link that accepts, confirms and drops again must see growing delays (no reset on the first message);
// only a stable minute of streaming resets the backoff.
import { afterEach, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fakeClock.js';
import { FakeEodhd, until } from '../helpers/wsServer.js';
import { type FeedHandle, startFeed } from './support.js';

let server: FakeEodhd;
let feed: FeedHandle | undefined;

afterEach(async () => {
  await feed?.stop();
  await server.close();
});

it('backoff grows on a flapping link and resets only after a stable minute', async () => {
  server = await FakeEodhd.start();
  const clock = new FakeClock(Date.UTC(2025, 0, 6, 15, 0));
  feed = startFeed({
    url: server.url,
    clock,
    reconnectBaseMs: 1000,
    reconnectMaxMs: 60_000,
    heartbeatIntervalMs: 600_000,
    random: () => 0.999999,
  });
  const f = feed;
  const delays: number[] = [];
  const dropAndMeasure = async (): Promise<void> => {
    await until(() => f.stats.state === 'subscribed', 5000, 'subscribed');
    const conns = server.connections;
    server.trade('AAPL', { t: clock.now() });
    await until(
      () => f.stats.trades > 0 && f.stats.connections[0]!.lastTradeAt === clock.now(),
      5000,
      'trade',
    );
    server.dropAll();
    await until(() => f.stats.state === 'backoff', 5000, 'backoff');
    const delay = clock.nextDeadline! - clock.now();
    delays.push(delay);
    await clock.advance(delay);
    await server.waitFor(() => server.connections === conns + 1, 5000, 'reconnect');
  };
  for (let i = 0; i < 4; i++) await dropAndMeasure();
  expect(delays).toEqual([999, 1999, 3999, 7999]);

  await until(() => f.stats.state === 'subscribed');
  await clock.advance(60_000);
  await dropAndMeasure();
  expect(delays[4]).toBe(999);
});
