import { describe, expect, it } from 'vitest';
import { MAX_PRICE, MAX_SIZE, MIN_PRICE, parseMessage } from '../../src/feed/parse.js';
import { classifyStatus } from '../../src/feed/status.js';

const NOW = 1_725_198_451_500;
const T = 1_725_198_451_165;
const trade = (o: Record<string, unknown>) =>
  JSON.stringify({ s: 'AAPL', p: 227.31, v: 100, c: [12, 37], dp: false, ms: 'open', t: T, ...o });

describe('parseMessage: trades', () => {
  it('parses the documented trade frame', () => {
    expect(parseMessage(trade({}), 7, NOW)).toEqual({
      kind: 'trade',
      trade: {
        symbol: 'AAPL',
        price: 227.31,
        size: 100,
        ts: T,
        conditions: [12, 37],
        flags: 7,
        darkPool: false,
        marketStatus: 'open',
        seq: 7,
        receivedAt: NOW,
      },
    });
  });

  it.each([
    ['list', [14, 37, 41], [14, 37, 41]],
    ['empty list', [], []],
    ['bare number', 12, [12]],
    ['numeric string', '14', [14]],
    ['absent', undefined, []],
    ['null', null, []],
    ['list with strings and junk', ['12', 'x', 37, null], [12, 37]],
  ])('conditions as %s', (_name, c, expected) => {
    const m = parseMessage(trade({ c }), 1, NOW);
    expect(m.kind === 'trade' && m.trade.conditions).toEqual(expected);
  });

  it('parses numeric strings for price, size and timestamp', () => {
    const m = parseMessage(trade({ p: '227.31', v: '5', t: String(T) }), 1, NOW);
    expect(m.kind === 'trade' && [m.trade.price, m.trade.size, m.trade.ts]).toEqual([227.31, 5, T]);
  });

  it.each(['open', 'closed', 'extended-hours'])('passes market status %s through', (ms) => {
    const m = parseMessage(trade({ ms }), 1, NOW);
    expect(m.kind === 'trade' && m.trade.marketStatus).toBe(ms);
  });

  it('reads dark pool and a missing ms', () => {
    const m = parseMessage(trade({ dp: true, ms: undefined }), 1, NOW);
    expect(m.kind === 'trade' && [m.trade.darkPool, m.trade.marketStatus]).toEqual([true, null]);
  });

  it('accepts the largest real prints: vwap arithmetic stays finite at the bounds', () => {
    const m = parseMessage(trade({ p: MAX_PRICE, v: MAX_SIZE }), 1, NOW);
    expect(m.kind).toBe('trade');
    // A candle sums price × size over its trades: a million such prints still stay finite.
    expect(Number.isFinite(MAX_PRICE * MAX_SIZE * 1e6)).toBe(true);
    expect(parseMessage(trade({ p: MIN_PRICE }), 1, NOW).kind).toBe('trade');
  });

  it('accepts a zero size (but not a negative one)', () => {
    expect(parseMessage(trade({ v: 0 }), 1, NOW).kind).toBe('trade');
  });
});

describe('parseMessage: invalid messages are classified, never thrown', () => {
  it.each([
    ['not_json', 'not json {'],
    ['not_json', ''],
    ['not_object', '42'],
    ['not_object', '"AAPL"'],
    ['not_object', 'null'],
    ['not_object', '[1,2]'],
    ['missing_symbol', trade({ s: undefined })],
    ['missing_symbol', trade({ s: '' })],
    ['missing_symbol', trade({ s: 12 })],
    ['bad_price', trade({ p: undefined })],
    ['bad_price', trade({ p: 'abc' })],
    ['bad_price', trade({ p: '' })],
    ['bad_price', trade({ p: null })],
    ['bad_price', trade({ p: true })],
    ['bad_price', '{"s":"AAPL","p":1e999,"v":1,"t":1725198451165}'],
    ['nonpositive_price', trade({ p: 0 })],
    ['nonpositive_price', trade({ p: -1.5 })],
    ['bad_size', trade({ v: -1 })],
    ['bad_size', trade({ v: 'lots' })],
    ['bad_size', trade({ v: undefined })],
    ['absurd_size', trade({ v: 1e308 })],
    ['absurd_size', trade({ v: '1e11' })],
    ['absurd_price', trade({ p: 1e308 })],
    ['absurd_price', trade({ p: 20_000_000 })],
    ['absurd_price', trade({ p: 1e-300 })],
    ['bad_timestamp', trade({ t: undefined })],
    ['bad_timestamp', trade({ t: 'soon' })],
    ['absurd_timestamp', trade({ t: Math.floor(T / 1000) })],
    ['absurd_timestamp', trade({ t: NOW + 2 * 86_400_000 })],
    ['absurd_timestamp', trade({ t: -5 })],
    ['bad_status', '{"status_code":"oops","message":"x"}'],
    ['missing_symbol', '{"foo":1}'],
  ])('%s: %s', (reason, raw) => {
    expect(parseMessage(raw, 1, NOW)).toEqual({ kind: 'invalid', reason });
  });
});

describe('parseMessage: status frames', () => {
  it.each([
    ['{"status_code":200,"message":"Authorized"}', 200, 'Authorized', 'ok'],
    [
      '{"status_code":422,"message":"Only limited symbols allowed for demo"}',
      422,
      'Only limited symbols allowed for demo',
      'rejected',
    ],
    ['{"status_code":422,"message":"Symbols limit reached"}', 422, 'Symbols limit reached', 'rejected'],
    ['{"status":403,"message":"Server error"}', 403, 'Server error', 'rejected'],
    ['{"status":401,"message":"Unauthorized"}', 401, 'Unauthorized', 'rejected'],
    ['{"status":500,"message":"Internal"}', 500, 'Internal', 'server'],
  ])('%s', (raw, code, message, cls) => {
    expect(parseMessage(raw, 1, NOW)).toEqual({ kind: 'status', code, message });
    expect(classifyStatus(code, message).cls).toBe(cls);
  });

  it('names the fix for each rejection', () => {
    expect(classifyStatus(403, 'Server error').text).toContain('EODHD_API_TOKEN');
    expect(classifyStatus(422, 'Only limited symbols allowed for demo').text).toContain('AAPL, MSFT, TSLA');
    expect(classifyStatus(422, 'Symbols limit reached').text).toContain('MAX_SYMBOLS_PER_CONNECTION');
  });
});
