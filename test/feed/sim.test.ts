// The simulated EODHD feed: protocol, rate, subscriptions, token check; and the feed loop end-to-end on it.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseMessage } from '../../src/feed/parse.js';
import { type SimServer, startSimServer } from '../../src/feed/sim/server.js';
import { until } from '../helpers/wsServer.js';
import { type FeedHandle, startFeed } from './support.js';

let sim: SimServer | undefined;
let feed: FeedHandle | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await feed?.stop();
  feed = undefined;
  await sim?.close();
  sim = undefined;
});

function client(url: string): { ws: WebSocket; frames: string[]; closed: Promise<number> } {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  sockets.push(ws);
  const frames: string[] = [];
  ws.on('error', () => {});
  ws.on('message', (d) => frames.push(String(d)));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  return { ws, frames, closed };
}

describe('sim server', () => {
  it('says Authorized, then streams valid trades only for subscribed symbols at about the configured rate', async () => {
    sim = await startSimServer({ rate: 2000, seed: 42 });
    expect(sim.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/us$/);
    const c = client(`${sim.url}?api_token=x`);
    await until(() => c.frames.length === 1);
    expect(JSON.parse(c.frames[0]!)).toEqual({ status_code: 200, message: 'Authorized' });
    c.ws.send(JSON.stringify({ action: 'subscribe', symbols: 'AAPL, MSFT' }));
    await until(() => c.frames.length >= 2);
    const t0 = Date.now();
    const startCount = c.frames.length;
    await until(() => c.frames.length >= startCount + 2000, 10_000, '2000 trades');
    const perSec = (2000 / (Date.now() - t0)) * 1000;
    expect(perSec).toBeGreaterThan(1200);
    expect(perSec).toBeLessThan(3500);

    const trades = c.frames.slice(1).map((f) => parseMessage(f, 0, Date.now()));
    expect(trades.every((m) => m.kind === 'trade')).toBe(true);
    const bySymbol = new Map<string, number>();
    let darkPool = 0;
    let oddLots = 0;
    for (const m of trades) {
      if (m.kind !== 'trade') continue;
      bySymbol.set(m.trade.symbol, (bySymbol.get(m.trade.symbol) ?? 0) + 1);
      if (m.trade.darkPool) darkPool++;
      if (m.trade.size % 100 !== 0) oddLots++;
      expect(m.trade.marketStatus).toBe('open');
    }
    expect([...bySymbol.keys()].sort()).toEqual(['AAPL', 'MSFT']);
    expect(darkPool).toBeGreaterThan(0);
    expect(oddLots / trades.length).toBeGreaterThan(0.1);
    const aapl = trades.find((m) => m.kind === 'trade' && m.trade.symbol === 'AAPL');
    expect(aapl?.kind === 'trade' && aapl.trade.price).toBeGreaterThan(150);

    c.ws.send(JSON.stringify({ action: 'unsubscribe', symbols: 'MSFT' }));
    const sentAt = Date.now();
    const stamp = (f: string) => JSON.parse(f) as { s: string; t: number };
    await until(() => stamp(c.frames.at(-1)!).t >= sentAt + 400, 10_000, 'frames after the unsubscribe');
    // Frames stamped before the server read the unsubscribe may still be MSFT; later ones must not.
    const after = c.frames.map(stamp).filter((f) => f.t > sentAt + 100);
    expect(after.length).toBeGreaterThan(100);
    expect(after.every((f) => f.s === 'AAPL')).toBe(true);
  });

  it('with a token set, other tokens get the 403 frame and a close', async () => {
    sim = await startSimServer({ rate: 100, token: 'secret' });
    const bad = client(`${sim.url}?api_token=nope`);
    const code = await bad.closed;
    expect(bad.frames.map((f) => JSON.parse(f))).toEqual([{ status: 403, message: 'Server error' }]);
    expect(code).toBe(1008);
    const good = client(`${sim.url}?api_token=secret`);
    await until(() => good.frames.length === 1);
    expect(JSON.parse(good.frames[0]!)).toMatchObject({ status_code: 200 });
    expect(sim.stats.rejected).toBe(1);
  });

  it('the feed loop collects from it end-to-end and recovers from dropClients()', async () => {
    sim = await startSimServer({ rate: 5000, token: 'test-token', seed: 7 });
    feed = startFeed({ url: sim.url, symbols: ['AAPL', 'MSFT', 'NVDA'] });
    await until(() => feed!.trades.length >= 500, 10_000, '500 trades');
    expect(sim.dropClients()).toBe(1);
    const before = feed.trades.length;
    await until(() => feed!.gaps.length === 1 && feed!.trades.length >= before + 500, 10_000, 'recovery');
    const seqs = feed.trades.map((t) => t.seq);
    expect(seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1)).toBe(true);
    expect(new Set(feed.trades.map((t) => t.symbol))).toEqual(new Set(['AAPL', 'MSFT', 'NVDA']));
    expect(feed.stats.invalid.not_json + feed.stats.invalid.bad_price).toBe(0);
    expect(feed.stats.lag.count).toBe(feed.stats.trades);
  });
});
