// 200 drops in quick succession: the feed reconnects every time, and the log stays a handful of lines
// (the first gap in full, the rest summarised) — the production log storm cannot happen here.
import { afterEach, expect, it } from 'vitest';
import { FakeEodhd, until } from '../helpers/wsServer.js';
import { type FeedHandle, startFeed } from './support.js';

let server: FakeEodhd;
let feed: FeedHandle | undefined;

afterEach(async () => {
  await feed?.stop();
  await server.close();
});

it('a reconnect storm of 200 drops logs only a few lines and reports every gap', async () => {
  server = await FakeEodhd.start();
  feed = startFeed({ url: server.url, reconnectBaseMs: 1, reconnectMaxMs: 2 });
  const drops = 200;
  for (let i = 1; i <= drops; i++) {
    await server.waitFor(() => server.subscribesOn(i).length === 1, 5000, `subscribe ${i}`);
    await until(() => feed!.stats.state === 'subscribed');
    server.dropAll();
  }
  await server.waitFor(() => server.subscribesOn(drops + 1).length === 1, 5000, 'final subscribe');
  await until(() => feed!.gaps.length === drops);
  await feed.stop();
  expect(feed.stats.reconnects).toBe(drops);
  const gapLines = feed.lines.filter((l) => l.event === 'feed.gap');
  expect(gapLines.length).toBeLessThanOrEqual(2 + Math.ceil(drops / 1000));
  expect(gapLines.some((l) => (l.suppressed as number) > 0)).toBe(true);
  expect(feed.lines.length).toBeLessThanOrEqual(10);
}, 30_000);
