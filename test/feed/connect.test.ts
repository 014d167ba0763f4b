// The connect loop against a real ws server on 127.0.0.1: subscribe, stream, drops, close codes,
// invalid frames, chunking. Every wait is for an event (server or feed), bounded.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeEodhd, until } from '../helpers/wsServer.js';
import { type FeedHandle, startFeed } from './support.js';

let server: FakeEodhd;
let feed: FeedHandle | undefined;

beforeEach(async () => {
  server = await FakeEodhd.start({ token: 'test-token' });
});
afterEach(async () => {
  await feed?.stop();
  feed = undefined;
  await server.close();
});

describe('connect and stream', () => {
  it('connects with the token, subscribes to the chunk, and delivers trades in arrival order', async () => {
    const startedAt = Date.now();
    feed = startFeed({ url: server.url });
    await server.waitFor(() => server.subscribes.length === 1, 5000, 'subscribe');
    expect(server.subscribes[0]!.symbols).toEqual(['AAPL', 'MSFT']);
    server.trade('AAPL', { p: 1.5 });
    server.trade('MSFT', { p: '2.5', c: 14 });
    await until(() => feed!.trades.length === 2, 5000, 'trades');
    expect(feed.trades.map((t) => [t.symbol, t.price, t.conditions])).toEqual([
      ['AAPL', 1.5, [12]],
      ['MSFT', 2.5, [14]],
    ]);
    expect(feed.trades[1]!.seq).toBe(feed.trades[0]!.seq + 1);
    // seq is part of the raw archive's key: seeded from the clock (µs), so a restarted process never reuses one.
    expect(feed.trades[0]!.seq).toBeGreaterThanOrEqual(startedAt * 1000);
    expect(Number.isSafeInteger(feed.trades[1]!.seq)).toBe(true);
    expect(feed.stats).toMatchObject({
      state: 'subscribed',
      connects: 1,
      trades: 2,
      subscribedSymbols: 2,
      statusFrames: 1,
    });
    expect(feed.gaps).toEqual([]);
    const r = await feed.stop();
    expect(r).toMatchObject({ endedBy: 'aborted', trades: 2, gaps: 0, connects: 1 });
    expect(feed.stats.state).toBe('stopped');
    expect(feed.stats.subscribedSymbols).toBe(0);
  });

  it('never logs the token', async () => {
    feed = startFeed({ url: server.url });
    await server.waitFor(() => server.subscribes.length === 1);
    await feed.stop();
    expect(JSON.stringify(feed.lines)).not.toContain('test-token');
    expect(feed.lines.some((l) => l.msg.startsWith('feed starting'))).toBe(true);
  });

  it('an abrupt drop → reconnect, RESUBSCRIBE to the full chunk, one gap, one gap log line', async () => {
    feed = startFeed({ url: server.url });
    await server.waitFor(() => server.subscribes.length === 1);
    server.dropAll();
    await server.waitFor(() => server.subscribesOn(2).length === 1, 5000, 'resubscribe on connection 2');
    expect(server.subscribesOn(2)[0]!.symbols).toEqual(['AAPL', 'MSFT']);
    await until(() => feed!.gaps.length === 1);
    const g = feed.gaps[0]!;
    expect(g.symbol).toBe('*');
    expect(g.reason).toBe('closed 1006');
    expect(g.endedAt).toBeGreaterThanOrEqual(g.startedAt);
    expect(feed.stats).toMatchObject({ reconnects: 1, connects: 2, gaps: 1 });
    server.trade('AAPL');
    await until(() => feed!.trades.length === 1);
    await feed.stop();
    expect(feed.gaps).toHaveLength(1);
    expect(feed.lines.filter((l) => l.event === 'feed.gap')).toHaveLength(1);
  });

  it.each([1000, 1001, 1011])('a server close with code %i → reconnect and resubscribe', async (code) => {
    feed = startFeed({ url: server.url });
    await server.waitFor(() => server.subscribes.length === 1);
    server.closeAll(code);
    await server.waitFor(() => server.subscribesOn(2).length === 1, 5000, 'resubscribe');
    await until(() => feed!.gaps.length === 1);
    expect(feed.gaps[0]!.reason).toBe(`closed ${code}`);
  });

  it('counts invalid messages per reason and still delivers the valid ones', async () => {
    feed = startFeed({ url: server.url });
    await server.waitFor(() => server.subscribes.length === 1);
    for (const raw of [
      'garbage',
      '[1]',
      '{"p":1,"v":1,"t":1725198451165}',
      '{"s":"AAPL","v":1,"t":1725198451165}',
      '{"s":"AAPL","p":0,"v":1,"t":1725198451165}',
      '{"s":"AAPL","p":1,"v":-1,"t":1725198451165}',
      '{"s":"AAPL","p":1,"v":1}',
      '{"s":"AAPL","p":1,"v":1,"t":1725198451}',
      '{"s":"AAPL","p":1,"v":1,"t":1725198451}',
      '{"s":"AAPL","p":1e308,"v":1,"t":1725198451165}',
      '{"s":"AAPL","p":1,"v":1e308,"t":1725198451165}',
    ]) {
      server.send(raw);
    }
    server.trade('MSFT');
    await until(() => feed!.trades.length === 1);
    expect(feed.stats.invalid).toEqual({
      not_json: 1,
      not_object: 1,
      missing_symbol: 1,
      bad_price: 1,
      nonpositive_price: 1,
      absurd_price: 1,
      bad_size: 1,
      absurd_size: 1,
      bad_timestamp: 1,
      absurd_timestamp: 2,
      bad_status: 0,
    });
    expect(feed.stats.connects).toBe(1);
    // One line per reason within the window; the repeat is summarised, not logged.
    expect(feed.lines.filter((l) => l.msg === 'invalid feed message skipped')).toHaveLength(10);
  });

  it('a frame that is not valid UTF-8 is one invalid message, not a closed socket and a gap', async () => {
    feed = startFeed({ url: server.url });
    await server.waitFor(() => server.subscribes.length === 1);
    const [ws] = server.clients.keys();
    ws!.send(Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0xff, 0xfe, 0x7d]), { binary: false }); // {"s":<ff fe>}
    server.trade('AAPL');
    await until(() => feed!.trades.length === 1);
    expect(feed.stats.invalid.not_json).toBe(1);
    expect(feed.stats.connects).toBe(1);
    expect(feed.gaps).toEqual([]);
  });

  it('counts and drops trades for symbols the socket never subscribed to', async () => {
    feed = startFeed({ url: server.url });
    await server.waitFor(() => server.subscribes.length === 1);
    for (let i = 0; i < 500; i++) server.trade(`ZZ${i}`);
    server.trade('aapl'); // not ours either: the server answers in the spelling we subscribed with
    server.trade('AAPL');
    await until(() => feed!.trades.length === 1);
    expect(feed.trades.map((t) => t.symbol)).toEqual(['AAPL']);
    expect(feed.stats).toMatchObject({ unsubscribedTrades: 501, trades: 1 });
    expect(feed.lines.filter((l) => l.event === 'feed.unsubscribed')).toHaveLength(1);
  });

  it('an onTrade exception is counted and does not kill the socket', async () => {
    let calls = 0;
    feed = startFeed({
      url: server.url,
      onTrade: () => {
        calls++;
        if (calls === 1) throw new Error('consumer bug');
      },
    });
    await server.waitFor(() => server.subscribes.length === 1);
    server.trade('AAPL');
    server.trade('AAPL');
    await until(() => calls === 2);
    expect(feed.stats.onTradeErrors).toBe(1);
    expect(feed.stats.connects).toBe(1);
    expect(server.connections).toBe(1);
  });

  it('more symbols than maxSymbolsPerConnection → one socket per chunk, each subscribed to its chunk', async () => {
    feed = startFeed({ url: server.url, symbols: ['A', 'B', 'C', 'D', 'E'], maxSymbolsPerConnection: 2 });
    await server.waitFor(() => server.subscribes.length === 3, 5000, '3 subscribes');
    expect(server.connections).toBe(3);
    expect(server.subscribes.map((s) => s.symbols.join(',')).sort()).toEqual(['A,B', 'C,D', 'E']);
    await until(() => feed!.stats.state === 'subscribed');
    expect(feed.stats.subscribedSymbols).toBe(5);
    expect(feed.stats.connections.map((c) => c.state)).toEqual(['subscribed', 'subscribed', 'subscribed']);
    // A drop on one socket is that chunk's gap, named by its symbols.
    const [first] = server.clients.keys();
    const conn = server.clients.get(first!)!;
    first!.terminate();
    await until(() => feed!.gaps.length === 1);
    const chunk = server.subscribesOn(conn)[0]!.symbols;
    expect(feed.gaps[0]!.symbols).toEqual(chunk);
    expect(feed.gaps[0]!.symbol).toBe(chunk.join(','));
    await server.waitFor(() => server.subscribes.length === 4);
    expect(server.subscribes[3]!.symbols).toEqual(chunk);
  });
});
