// deriveGaps groups symbols covered by the same rows and subtracts once per group: it must say exactly what
// subtracting symbol by symbol says. A plain reference (one subtraction per symbol, as the definition
// reads) against it on seeded random days: spans, coverage rows over random symbol sets, notes and runs.
import { describe, expect, it } from 'vitest';
import {
  type Covered,
  type DerivedGap,
  deriveGaps,
  labelOf,
  type RunSpan,
  type Span,
  subtract,
} from '../../src/ledger/derive.js';

/** The definition, symbol by symbol: each symbol's span minus the union of its coverage. */
function reference(spans: Span[], coverage: Covered[]): DerivedGap[] {
  const groups = new Map<string, { span: Span; start: number; end: number; symbols: string[] }>();
  for (const span of spans) {
    for (const sym of span.symbols) {
      const mine = coverage.filter((c) => c.symbols.includes(sym)).sort((a, b) => a.startedAt - b.startedAt);
      for (const p of subtract(span.start, span.end, mine)) {
        if (!span.final && p.end >= span.end) continue;
        const key = `${span.start}|${p.start}|${p.end}|${p.before}|${p.after}`;
        const g = groups.get(key);
        if (g) g.symbols.push(sym);
        else groups.set(key, { span, start: p.start, end: p.end, symbols: [sym] });
      }
    }
  }
  // Reasons come from the same function in both; compare the gaps' extent, symbols and labels.
  return [...groups.values()].map((g) => {
    const symbols = [...g.symbols].sort();
    return {
      label: labelOf(symbols, g.span.symbols),
      symbols,
      startedAt: g.start,
      endedAt: g.end,
      mode: g.span.mode,
      reason: '',
    };
  });
}

let seed = 99;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const int = (n: number) => Math.floor(random() * n);

const key = (g: DerivedGap) => `${g.startedAt}|${g.endedAt}|${g.label}|${g.symbols.join(',')}|${g.mode}`;

describe('deriveGaps', () => {
  it('equals the symbol-by-symbol definition on 300 random days', () => {
    for (let round = 0; round < 300; round++) {
      const all = Array.from({ length: 1 + int(40) }, (_, i) => `S${i}`);
      const pick = () => all.filter(() => random() < 0.5);
      const spans: Span[] = Array.from({ length: 1 + int(3) }, (_, i) => ({
        start: i * 1_000,
        end: i * 1_000 + 500 + int(500),
        mode: random() < 0.5 ? 'calendar' : 'skip',
        symbols: random() < 0.5 ? all : pick(),
        final: random() < 0.7,
      }));
      // Connections: a few symbol sets, each covered in a few stretches (some overlapping, some by runs).
      const sets = Array.from({ length: 1 + int(5) }, pick);
      const coverage: Covered[] = [];
      for (let i = 0, n = int(30); i < n; i++) {
        const startedAt = int(3_500);
        coverage.push({
          symbols: sets[int(sets.length)]!,
          startedAt,
          endedAt: startedAt + 1 + int(400),
          runId: `r${int(3)}`,
        });
      }
      const runs: RunSpan[] = [{ id: 'r0', start: 0, end: 2_000 }];
      const got = deriveGaps(spans, coverage, runs, []);
      const want = reference(spans, coverage);
      expect(got.map(key).sort()).toEqual(want.map(key).sort());
      for (const g of got) expect(g.reason.length).toBeGreaterThan(0);
    }
  });

  it('5,000 symbols on 100 connections: one gap per stretch, all symbols named', () => {
    const all = Array.from({ length: 5_000 }, (_, i) => `S${String(i).padStart(4, '0')}`);
    const coverage: Covered[] = [];
    for (let c = 0; c < 100; c++) {
      const symbols = all.slice(c * 50, c * 50 + 50);
      coverage.push({ symbols, startedAt: 1_000 + c, endedAt: 50_000, runId: 'r' });
      coverage.push({ symbols, startedAt: 52_000, endedAt: 100_000, runId: 'r' });
    }
    const span: Span = { start: 0, end: 100_000, mode: 'skip', symbols: all, final: true };
    const gaps = deriveGaps([span], coverage, [{ id: 'r', start: 0, end: 100_000 }], []);
    const outage = gaps.filter((g) => g.startedAt === 50_000);
    expect(outage).toHaveLength(1);
    expect(outage[0]).toMatchObject({ label: '*', endedAt: 52_000, reason: 'feed down' });
    expect(gaps.filter((g) => g.startedAt === 0)).toHaveLength(100); // each connection's own late start
  });
});
