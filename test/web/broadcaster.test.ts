// The live stream's bounds: push() only files candles (coalescing versions of one candle), a client that
// falls too far behind is told to resync, a slow socket is skipped and then dropped, the client count is
// capped; with nobody watching nothing runs.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { SecondCandle, TickCandle } from '../../src/aggregate/types.js';
import { Broadcaster, type BroadcasterOptions } from '../../src/web/broadcaster.js';

class FakeRes extends EventEmitter {
  chunks: string[] = [];
  writableLength = 0;
  destroyed = false;
  ended = false;
  status = 0;
  socket = null;
  writeHead(status: number) {
    this.status = status;
    return this;
  }
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  end() {
    this.ended = true;
    this.emit('close');
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
  /** Parsed events after the preamble. */
  events(): { event: string; data: unknown }[] {
    return this.chunks
      .filter((c) => c.startsWith('event: '))
      .map((c) => {
        const [ev, data] = c.trim().split('\n');
        return { event: ev!.slice(7), data: JSON.parse(data!.slice(6)) };
      });
  }
}

const res = () => new FakeRes();
const asRes = (r: FakeRes) => r as unknown as ServerResponse;

function sec(symbol: string, i: number, volume = 1): SecondCandle {
  return {
    kind: '1s',
    symbol,
    bucket: 1_000_000 + i * 1000,
    open: 1,
    high: 1,
    low: 1,
    close: 1,
    volume,
    tradeCount: volume,
    vwap: 1,
    firstTradeAt: 0,
    lastTradeAt: 0,
  };
}

function tick(symbol: string, seq: number): TickCandle {
  return {
    kind: '100t',
    symbol,
    sessionDate: '2024-07-03',
    seq,
    open: 1,
    high: 1,
    low: 1,
    close: 1,
    volume: 1,
    tradeCount: 100,
    vwap: 1,
    startAt: 0,
    endAt: 0,
  };
}

function make(opts: Partial<BroadcasterOptions> = {}) {
  let now = 0;
  const b = new Broadcaster({ state: () => ({ ok: true }), now: () => now, ...opts });
  return { b, advance: (ms: number) => (now += ms) };
}

describe('Broadcaster', () => {
  it('does nothing with no client (no timers, nothing kept)', () => {
    const { b } = make();
    for (let i = 0; i < 1000; i++) b.push(sec('AAPL', i));
    expect(b.stats.clients).toBe(0);
    expect(b.stats.coalesced).toBe(0);
    expect(b.stats.events).toBe(0);
  });

  it('sends a state event at once, then each client only its symbol and kind, one batch per round', () => {
    const { b } = make();
    const a = res();
    const m = res();
    expect(b.add(asRes(a), 'AAPL', '1s')).toBe(true);
    expect(b.add(asRes(m), 'MSFT', '100t')).toBe(true);
    expect(a.status).toBe(200);
    expect(a.events()[0]).toEqual({ event: 'state', data: { ok: true } });
    b.push(sec('AAPL', 1));
    b.push(sec('AAPL', 2));
    b.push(sec('MSFT', 1));
    b.push(tick('AAPL', 0));
    b.push(tick('MSFT', 7));
    b.flushNow();
    const aCandles = a.events().filter((e) => e.event === 'candles');
    expect(aCandles).toHaveLength(1);
    expect((aCandles[0]!.data as SecondCandle[]).map((c) => [c.symbol, c.kind, c.bucket])).toEqual([
      ['AAPL', '1s', 1_001_000],
      ['AAPL', '1s', 1_002_000],
    ]);
    const mCandles = m.events().filter((e) => e.event === 'candles');
    expect((mCandles[0]!.data as TickCandle[]).map((c) => [c.symbol, c.kind, c.seq])).toEqual([
      ['MSFT', '100t', 7],
    ]);
    // A round with nothing new writes no candle event (only the state).
    const before = a.chunks.length;
    b.flushNow();
    expect(a.events().slice(-1)[0]!.event).toBe('state');
    expect(a.chunks.length).toBe(before + 1);
    b.close();
  });

  it('coalesces versions of the same candle (an amendment replaces the one not yet sent)', () => {
    const { b } = make();
    const a = res();
    b.add(asRes(a), 'AAPL', '1s');
    b.push(sec('AAPL', 1, 5));
    b.push(sec('AAPL', 1, 9));
    expect(b.stats.coalesced).toBe(1);
    b.flushNow();
    const sent = a.events().find((e) => e.event === 'candles')!.data as SecondCandle[];
    expect(sent).toHaveLength(1);
    expect(sent[0]!.volume).toBe(9);
    b.close();
  });

  it('bounds what waits per client: past maxPending it drops them and asks for a resync', () => {
    const { b } = make({ maxPending: 10 });
    const a = res();
    b.add(asRes(a), 'AAPL', '1s');
    for (let i = 0; i < 50; i++) b.push(sec('AAPL', i));
    expect(b.stats.resyncs).toBe(1);
    b.flushNow();
    const events = a.events().map((e) => e.event);
    expect(events).toContain('resync');
    expect(events).not.toContain('candles');
    // After the resync it streams again.
    b.push(sec('AAPL', 99));
    b.flushNow();
    expect(a.events().filter((e) => e.event === 'candles')).toHaveLength(1);
    b.close();
  });

  it('skips a client whose socket is full and drops it when it stays full', () => {
    const { b, advance } = make({ maxSocketBytes: 1000, slowCloseMs: 5_000 });
    const slow = res();
    const fast = res();
    b.add(asRes(slow), 'AAPL', '1s');
    b.add(asRes(fast), 'AAPL', '1s');
    slow.writableLength = 10_000;
    const written = slow.chunks.length;
    b.push(sec('AAPL', 1));
    b.flushNow();
    expect(slow.chunks.length).toBe(written);
    expect(fast.events().some((e) => e.event === 'candles')).toBe(true);
    expect(b.stats.skipped).toBeGreaterThan(0);
    // Pending stays bounded by coalescing and maxPending while it is skipped.
    for (let i = 0; i < 100; i++) b.push(sec('AAPL', 1));
    advance(6_000);
    b.flushNow();
    expect(slow.destroyed).toBe(true);
    expect(b.stats.slowClosed).toBe(1);
    expect(b.stats.clients).toBe(1);
    b.close();
    expect(fast.ended).toBe(true);
    expect(b.stats.clients).toBe(0);
  });

  it('caps the clients and refuses after close', () => {
    const { b } = make({ maxClients: 2 });
    expect(b.add(asRes(res()), 'AAPL', '1s')).toBe(true);
    expect(b.add(asRes(res()), 'AAPL', '1s')).toBe(true);
    expect(b.add(asRes(res()), 'AAPL', '1s')).toBe(false);
    expect(b.stats.refused).toBe(1);
    b.close();
    expect(b.add(asRes(res()), 'AAPL', '1s')).toBe(false);
  });

  it('forgets a client whose connection closed', () => {
    const { b } = make();
    const a = res();
    b.add(asRes(a), 'AAPL', '1s');
    a.emit('close');
    expect(b.stats.clients).toBe(0);
    b.push(sec('AAPL', 1));
    expect(b.stats.coalesced).toBe(0);
  });
});
