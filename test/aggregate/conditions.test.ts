// The condition rules: every table row that changes something, through both candle kinds; the tick API's
// letters one by one; several conditions; unknown codes; the `all` mode; the session tail.
import { describe, expect, it } from 'vitest';
import {
  ConditionRules,
  EXTENDED_HOURS,
  UPDATES_HIGH_LOW as H,
  inSessionCandles,
  UPDATES_OPEN_CLOSE as O,
  UPDATES_ALL,
  UPDATES_VOLUME as V,
} from '../../src/aggregate/conditions.js';
import { SecondAggregator } from '../../src/aggregate/secondAggregator.js';
import { TickAggregator } from '../../src/aggregate/tickAggregator.js';
import type { Candle, Trade } from '../../src/aggregate/types.js';
import { trade } from './trades.js';

/** 'HOV' → flags, written as the research table's three consolidated columns. */
function spelled(s: string): number {
  return (s.includes('H') ? H : 0) | (s.includes('O') ? O : 0) | (s.includes('V') ? V : 0);
}

// Every id whose consolidated rule is not "updates everything" (research section C, 2026 numbering).
const ROWS: [number, string][] = [
  [2, 'V'],
  [5, 'HV'],
  [7, 'V'],
  [10, 'HV'],
  [12, 'V'],
  [13, 'V'],
  [15, ''],
  [16, ''],
  [20, 'V'],
  [21, 'V'],
  [22, 'HV'],
  [29, 'V'],
  [32, 'HV'],
  [33, 'HV'],
  [37, 'V'],
  [38, 'HO'],
  [52, 'V'],
  [53, 'V'],
];

const T = Date.UTC(2026, 2, 3, 15, 0, 0, 100); // 10:00:00.100 ET

/** Two regular trades around one trade with `conditions` (the highest price, the latest ts), both kinds. */
function candlesWith(conditions: number[]): { second: Candle[]; tick: Candle[] } {
  const rules = new ConditionRules('sip');
  const trades: Trade[] = [
    trade('X', T, 100, 10),
    trade('X', T + 10, 101, 10),
    trade('X', T + 20, 150, 5, { conditions }),
  ].map((t) => ({ ...t, flags: rules.ofIds(t.conditions) }));
  const second: Candle[] = [];
  const tick: Candle[] = [];
  const s = new SecondAggregator({}, (c) => second.push(c));
  const k = new TickAggregator({ size: 3 }, (c) => tick.push(c));
  for (const t of trades) {
    s.add(t);
    k.add(t);
  }
  s.drain();
  k.drain();
  return { second, tick };
}

describe('the update rules, row by row, on both candle kinds', () => {
  it.each(ROWS)('condition %i updates only %j', (id, rule) => {
    const { second, tick } = candlesWith([id]);
    const hl = rule.includes('H');
    const oc = rule.includes('O');
    const vol = rule.includes('V');
    const counted = hl || oc || vol;
    for (const c of [second[0]!, tick[0]!]) {
      expect(c).toMatchObject({
        open: 100,
        high: hl ? 150 : 101,
        low: 100,
        close: oc ? 150 : 101,
        volume: vol ? 25 : 20,
        tradeCount: counted ? 3 : 2,
      });
      expect(c.vwap).toBeCloseTo(vol ? (1000 + 1010 + 750) / 25 : 2010 / 20, 10);
    }
    const s = second[0]!;
    if (s.kind === '1s') expect(s.lastTradeAt).toBe(counted ? T + 20 : T + 10);
    // A trade that updates nothing does not advance the 100-tick count: the candle is still incomplete.
    expect(tick).toHaveLength(1);
  });

  it('a candle whose trades may not set a price has volume and no price (null, never zero)', () => {
    const rules = new ConditionRules('sip');
    const out: Candle[] = [];
    const s = new SecondAggregator({}, (c) => out.push(c));
    const k = new TickAggregator({ size: 2 }, (c) => out.push(c));
    for (const t of [
      trade('X', T, 200, 7, { conditions: [37] }),
      trade('X', T + 1, 201, 3, { conditions: [12, 37] }),
    ]) {
      const c = { ...t, flags: rules.ofIds(t.conditions) };
      s.add(c);
      k.add(c);
    }
    s.drain();
    for (const c of out) {
      expect(c).toMatchObject({ open: null, high: null, low: null, close: null, volume: 10, tradeCount: 2 });
      expect(c.vwap).toBeCloseTo(201 * 0.3 + 200 * 0.7, 10);
    }
    expect(out.map((c) => c.kind).sort()).toEqual(['100t', '1s']);
  });

  it('a trade that updates nothing makes no candle at all', () => {
    const rules = new ConditionRules('sip');
    const out: Candle[] = [];
    const s = new SecondAggregator({}, (c) => out.push(c));
    const k = new TickAggregator({ size: 1 }, (c) => out.push(c));
    const t = { ...trade('X', T, 100, 500, { conditions: [15] }), flags: rules.ofIds([15]) };
    s.add(t);
    k.add(t);
    s.drain();
    k.drain();
    expect(out).toEqual([]);
    expect(s.stats.uncounted).toBe(1);
    expect(k.stats.uncounted).toBe(1);
  });
});

describe('ConditionRules', () => {
  it('several conditions: a field is updated only if every one allows it', () => {
    const r = new ConditionRules('sip');
    expect(r.ofIds([14, 37, 41])).toBe(V);
    expect(r.ofIds([10, 22])).toBe(H | V);
    expect(r.ofIds([38, 10])).toBe(H);
    expect(r.ofIds([14, 41])).toBe(UPDATES_ALL);
    expect(r.ofIds([])).toBe(UPDATES_ALL);
    expect(r.ofIds([12, 37])).toBe(V | EXTENDED_HOURS);
    expect(r.stats).toMatchObject({ all: 2, volumeOnly: 2, partial: 2, none: 0 });
  });

  it('an unknown id updates everything, is counted per id and reported once', () => {
    const seen: string[] = [];
    const r = new ConditionRules('sip', (code) => seen.push(code));
    expect(r.ofIds([99])).toBe(UPDATES_ALL);
    expect(r.ofIds([99, 37])).toBe(V);
    expect(r.ofIds([-1])).toBe(UPDATES_ALL);
    expect(r.ofIds([1e9])).toBe(UPDATES_ALL);
    expect(r.ofIds([26])).toBe(UPDATES_ALL);
    expect(seen).toEqual(['99', '-1', '1000000000', '26']);
    expect(Object.fromEntries(r.stats.unknown)).toEqual({ '99': 2, '-1': 1, '1000000000': 1, '26': 1 });
  });

  it('keeps the unknown-code map bounded under a hostile feed', () => {
    const r = new ConditionRules('sip');
    for (let id = 1000; id < 3000; id++) r.ofIds([id]);
    expect(r.stats.unknown.size).toBeLessThanOrEqual(65);
    expect([...r.stats.unknown.values()].reduce((a, b) => a + b, 0)).toBe(2000);
  });

  it('CANDLE_CONDITIONS=all: every trade updates every field (the extended-hours mark stays)', () => {
    const r = new ConditionRules('all');
    for (const [id] of ROWS) expect(r.ofIds([id]) & UPDATES_ALL).toBe(UPDATES_ALL);
    expect(r.ofIds([12]) & EXTENDED_HOURS).toBe(EXTENDED_HOURS);
    expect(r.ofLetters(' F I') & UPDATES_ALL).toBe(UPDATES_ALL);
  });
});

// The tick API's letters, one by one (research section A/C; collisions decided as the code documents).
const LETTERS: [string, string][] = [
  ['@', 'HOV'],
  [' ', 'HOV'],
  ['A', 'HOV'],
  ['B', 'V'], // CTA Average Price, not UTP Bunched
  ['C', 'V'],
  ['D', 'HOV'],
  ['E', 'HOV'],
  ['F', 'HOV'],
  ['G', 'HV'], // UTP Bunched Sold
  ['H', 'V'],
  ['I', 'V'],
  ['K', 'HOV'],
  ['L', 'HOV'],
  ['M', ''],
  ['N', 'V'],
  ['O', 'HOV'],
  ['P', 'HV'],
  ['Q', ''],
  ['R', 'V'],
  ['S', 'HOV'],
  ['T', 'V'],
  ['U', 'V'],
  ['V', 'V'], // Contingent, not UTP Stock Option
  ['W', 'V'],
  ['X', 'HOV'],
  ['Y', 'HOV'],
  ['Z', 'HV'],
  ['1', 'HOV'],
  ['2', 'HOV'],
  ['3', 'HV'],
  ['4', 'HV'],
  ['5', 'HOV'],
  ['6', 'HOV'],
  ['7', 'V'],
  ['9', 'HO'],
];

describe('the tick API letters', () => {
  it.each(LETTERS)('%j updates %j', (letter, rule) => {
    const r = new ConditionRules('sip');
    const got = r.ofLetters(`${letter}   `);
    expect(got & UPDATES_ALL).toBe(spelled(rule));
    expect((got & EXTENDED_HOURS) !== 0).toBe(letter === 'T' || letter === 'U');
    expect(r.stats.unknown.size).toBe(0);
  });

  it.each([
    ['@   ', 'HOV'],
    [' F I', 'V'],
    ['   I', 'V'],
    [' 4 B', 'V'],
    [' 7 V', 'V'],
    ['C  I', 'V'],
    ['  ZI', 'V'],
    ['@ TI', 'V'],
    [' F  ', 'HOV'],
    ['@ 4 ', 'HV'],
  ])('the observed string %j updates %j', (sl, rule) => {
    expect(new ConditionRules('sip').ofLetters(sl) & UPDATES_ALL).toBe(spelled(rule));
  });

  it('an unknown letter updates everything and is counted', () => {
    const seen: string[] = [];
    const r = new ConditionRules('sip', (c) => seen.push(c));
    expect(r.ofLetters(' 8  ')).toBe(UPDATES_ALL);
    expect(r.ofLetters('é8 I')).toBe(V);
    expect(seen).toEqual(["'8'", "'é'"]);
    expect(r.stats.unknown.get("'8'")).toBe(2);
  });
});

describe('which trades enter a session’s candles', () => {
  const open = Date.UTC(2026, 2, 3, 14, 30);
  const close = Date.UTC(2026, 2, 3, 21, 0);
  const tail = 10_000;
  const rules = new ConditionRules('sip');
  it.each([
    ['before the open', open - 1, [], false],
    ['at the open', open, [], true],
    ['a Form T print inside the session (volume only, still in)', open + 5, [12], true],
    ['the closing cross just after the close', close + 300, [8], true],
    ['a regular print in the tail', close + 9_999, [], true],
    ['a Form T print in the tail', close + 300, [12], false],
    ['an extended-hours out-of-sequence print in the tail', close + 300, [13, 37], false],
    ['after the tail', close + tail, [], false],
  ])('%s: %j', (_name, ts, conditions, taken) => {
    expect(inSessionCandles(open, close, tail, ts, rules.ofIds(conditions as number[]))).toBe(taken);
  });

  it('letters T and U mark extended hours for the tape too', () => {
    expect(inSessionCandles(open, close, tail, close + 1, rules.ofLetters('  T '))).toBe(false);
    expect(inSessionCandles(open, close, tail, close + 1, rules.ofLetters('@ U '))).toBe(false);
    expect(inSessionCandles(open, close, tail, close + 1, rules.ofLetters('@6  '))).toBe(true);
  });
});
