// Backpressure (src/feed/pacer.ts) against a real ws server on 127.0.0.1: a sink that falls behind pauses
// reading (the data waits in the kernel, nothing is dropped) and resumes below the low mark; a turn that
// spent its work budget pauses every socket until the next turn. A bare ws client on the same server is
// the yardstick: once it has the whole burst, an unpaused feed would have it too.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HOLD_HIGH, HOLD_LOW, Pacer, type Pausable } from '../../src/feed/pacer.js';
import { createFeedStats } from '../../src/feed/stats.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { FakeEodhd, until } from '../helpers/wsServer.js';
import { type FeedHandle, startFeed } from './support.js';

let server: FakeEodhd;
let feed: FeedHandle | undefined;
let bare: WebSocket | undefined;

beforeEach(async () => {
  server = await FakeEodhd.start();
});
afterEach(async () => {
  await feed?.stop();
  feed = undefined;
  bare?.terminate();
  bare = undefined;
  await server.close();
});

/** A plain client of the same server that counts the trade frames it gets. */
async function bareClient(): Promise<{ trades: () => number }> {
  let n = 0;
  const ws = new WebSocket(server.url, { perMessageDeflate: false });
  bare = ws;
  ws.on('error', () => {});
  ws.on('message', (d) => {
    if (String(d).includes('"s":')) n++;
  });
  await new Promise((r) => ws.once('open', r));
  return { trades: () => n };
}

const BURST = 5_000;

describe('backpressure', () => {
  it('holds reading while the sink backlog is high and resumes below the low mark, losing nothing', async () => {
    const clock = new FakeClock(Date.now());
    let backlog = 0;
    feed = startFeed({ url: server.url, clock, backlog: () => backlog });
    await server.waitFor(() => server.subscribes.length === 1);
    const yardstick = await bareClient();
    backlog = 0.9;
    server.trade('AAPL');
    await until(() => feed!.trades.length === 1, 5000, 'the trade that finds the backlog high');
    expect(feed.stats.sinkHolds).toBe(1);
    expect(feed.stats.heldSince).toBe(clock.now());

    for (let i = 0; i < BURST; i++) server.trade('MSFT', { v: i });
    await until(() => yardstick.trades() === BURST + 1, 10_000, 'the bare client to get the burst');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(feed.trades.length).toBe(1); // read nothing more while held

    backlog = (HOLD_LOW + HOLD_HIGH) / 2; // between the marks: still held
    await clock.advance(20);
    expect(feed.stats.heldSince).not.toBeNull();
    backlog = HOLD_LOW / 2;
    await clock.advance(20);
    await until(() => feed!.trades.length === BURST + 1, 10_000, 'the whole burst after the hold');
    expect(feed.trades.slice(1).map((t) => t.size)).toEqual(Array.from({ length: BURST }, (_, i) => i));
    expect(feed.stats).toMatchObject({ sinkHolds: 1, sinkHeldMs: 40, heldSince: null, connects: 1 });
  });

  it('a hold longer than the heartbeat does not end the socket as dead', async () => {
    const clock = new FakeClock(Date.now());
    let backlog = 0.9;
    feed = startFeed({ url: server.url, clock, backlog: () => backlog, heartbeatIntervalMs: 1_000 });
    await server.waitFor(() => server.subscribes.length === 1);
    server.trade('AAPL');
    await until(() => feed!.stats.sinkHolds === 1);
    server.halfOpen = true; // no pong would come anyway: only the hold may excuse the silence
    await clock.advance(5_000);
    expect(feed.stats.deadSockets).toBe(0);
    server.halfOpen = false;
    backlog = 0;
    await clock.advance(20);
    server.trade('AAPL');
    await until(() => feed!.trades.length === 2);
    expect(feed.stats.connects).toBe(1);
  });

  it('a turn over its work budget pauses reading until the next turn; every trade still arrives in order', async () => {
    feed = startFeed({ url: server.url, turnBudgetMs: 0 });
    await server.waitFor(() => server.subscribes.length === 1);
    for (let i = 0; i < BURST; i++) server.trade('MSFT', { v: i });
    await until(() => feed!.trades.length === BURST, 10_000, 'the burst');
    expect(feed.trades.map((t) => t.size)).toEqual(Array.from({ length: BURST }, (_, i) => i));
    expect(feed.stats.loopPauses).toBeGreaterThan(0);
    expect(feed.stats.loopPausedMs).toBeGreaterThanOrEqual(0);
  });
});

describe('Pacer', () => {
  it('resumes round robin, starting after the socket that spent the budget (no socket starves)', async () => {
    let work = 0;
    const p = new Pacer({
      turnBudgetMs: 1,
      holdCheckMs: 20,
      clock: new FakeClock(0),
      stats: createFeedStats(),
      signal: new AbortController().signal,
      workNow: () => work,
    });
    const order: string[] = [];
    const names = ['a', 'b', 'c', 'd'];
    const socks = names.map((n) => ({ pause: () => {}, resume: () => order.push(n) }));
    for (const s of socks) p.add(s);
    const spend = async (s: Pausable) => {
      p.onFrame(s); // opens the turn
      work += 2;
      for (let i = 0; i < 16; i++) p.onFrame(s);
      await new Promise((r) => setImmediate(r));
    };
    await spend(socks[0]!);
    expect(order.splice(0)).toEqual(['b', 'c', 'd', 'a']);
    await spend(socks[2]!);
    expect(order.splice(0)).toEqual(['d', 'a', 'b', 'c']);
  });

  const sockets = () => {
    const log: string[] = [];
    const mk = (name: string): Pausable => ({
      pause: () => log.push(`${name}:pause`),
      resume: () => log.push(`${name}:resume`),
    });
    return { log, a: mk('a'), b: mk('b') };
  };

  it('pauses every socket once the turn has used its budget, and resumes them all on the next turn', async () => {
    let work = 0;
    const stats = createFeedStats();
    const p = new Pacer({
      turnBudgetMs: 20,
      holdCheckMs: 20,
      clock: new FakeClock(0),
      stats,
      signal: new AbortController().signal,
      workNow: () => work,
    });
    const { log, a, b } = sockets();
    p.add(a);
    p.add(b);
    for (let i = 0; i < 64; i++) {
      p.onFrame(a);
      work += 0.1; // 6.4 ms in all: under budget
    }
    expect(log).toEqual([]);
    work += 20;
    for (let i = 0; i < 16; i++) p.onFrame(a);
    expect(log).toEqual(['a:pause', 'b:pause']);
    expect(p.reading).toBe(false);
    work += 3;
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['a:pause', 'b:pause', 'b:resume', 'a:resume']); // a spent the budget: b first
    expect(stats.loopPauses).toBe(1);
    expect(stats.loopPausedMs).toBe(3);
    // A socket that opens while reading is paused starts paused.
    for (let i = 0; i < 17; i++) {
      p.onFrame(a);
      work += 2;
    }
    const c: Pausable = { pause: () => log.push('c:pause'), resume: () => log.push('c:resume') };
    p.add(c);
    expect(log.slice(-1)).toEqual(['c:pause']);
    await new Promise((r) => setImmediate(r));
    expect(log.slice(-3)).toEqual(['b:resume', 'c:resume', 'a:resume']);
  });
});
