// Candle and trade factories for the store tests.
import { UPDATES_ALL } from '../../src/aggregate/conditions.js';
import type { SecondCandle, TickCandle, Trade } from '../../src/aggregate/types.js';

export const T0 = Date.UTC(2024, 6, 3, 14, 30, 0);

export function sec(symbol: string, i: number, tradeCount = 3, price = 100): SecondCandle {
  const bucket = T0 + i * 1000;
  return {
    kind: '1s',
    symbol,
    bucket,
    open: price,
    high: price + 1,
    low: price - 1,
    close: price + 0.5,
    volume: tradeCount * 10,
    tradeCount,
    vwap: price + 0.25,
    firstTradeAt: bucket + 1,
    lastTradeAt: bucket + 999,
  };
}

export function tick(symbol: string, seq: number, tradeCount = 100, sessionDate = '2024-07-03'): TickCandle {
  return {
    kind: '100t',
    symbol,
    sessionDate,
    seq,
    open: 10,
    high: 12,
    low: 9,
    close: 11,
    volume: tradeCount,
    tradeCount,
    vwap: 10.5,
    startAt: T0 + seq * 1000,
    endAt: T0 + seq * 1000 + 900,
  };
}

export function trade(symbol: string, i: number): Trade {
  return {
    symbol,
    price: 100 + (i % 7),
    size: 1 + (i % 5),
    ts: T0 + i,
    conditions: i % 2 ? [14, 37] : [],
    flags: UPDATES_ALL,
    darkPool: i % 3 === 0,
    marketStatus: 'open',
    seq: i,
    receivedAt: T0 + i + 5,
  };
}
