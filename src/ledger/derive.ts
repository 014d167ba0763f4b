// Gaps, derived (docs/ARCHITECTURE.md, "The ledger"): deriveGaps and its span arithmetic.
// For every symbol and every span it was meant to be collected in (a calendar session; with
// --skip-market-hours the span of that day's runs), the span minus the union of its coverage. Pure: the
// spans, coverage, runs and notes come in as arguments.
import type { CoverageMode } from './coverageStore.js';

export interface Span {
  start: number;
  end: number;
  mode: CoverageMode;
  symbols: readonly string[];
  /** The span is over: its trailing uncovered stretch is a gap (else it is still open, not yet a gap). */
  final: boolean;
}

export interface Covered {
  symbols: readonly string[];
  startedAt: number;
  endedAt: number;
  runId: string | null;
}

export interface RunSpan {
  id: string;
  start: number;
  /** stopped_at, or the last time it was seen. */
  end: number;
}

export interface Note {
  symbols: readonly string[];
  from: number;
  to: number;
  reason: string;
}

export interface DerivedGap {
  /** The row's key: '*' for every symbol of the span, the symbols joined for a few, else a short summary. */
  label: string;
  symbols: string[];
  startedAt: number;
  endedAt: number;
  mode: CoverageMode;
  reason: string;
}

interface Piece {
  start: number;
  end: number;
  /** The run ids of the coverage just before and just after (null: the span's edge). */
  before: string | null | undefined;
  after: string | null | undefined;
}

/** [start, end] minus the union of `covers` (sorted by start), with what borders each piece. */
export function subtract(start: number, end: number, covers: readonly Covered[]): Piece[] {
  const out: Piece[] = [];
  let at = start;
  let before: string | null | undefined;
  for (const c of covers) {
    if (c.endedAt <= at) continue;
    if (c.startedAt >= end) break;
    if (c.startedAt > at) out.push({ start: at, end: c.startedAt, before, after: c.runId });
    at = Math.max(at, c.endedAt);
    before = c.runId;
    if (at >= end) break;
  }
  if (at < end) out.push({ start: at, end, before, after: undefined });
  return out;
}

export function deriveGaps(
  spans: readonly Span[],
  coverage: readonly Covered[],
  runs: readonly RunSpan[],
  notes: readonly Note[],
): DerivedGap[] {
  const bySymbol = new Map<string, Covered[]>();
  for (const c of coverage) {
    for (const s of c.symbols) {
      const list = bySymbol.get(s);
      if (list) list.push(c);
      else bySymbol.set(s, [c]);
    }
  }
  // Symbols covered by the same rows (a connection's 50, a run's all) have the same gaps: subtract once per
  // such group, not per symbol (5,000 symbols each 5 s took ~25 ms of the collector's event loop).
  const index = new Map<Covered, number>();
  for (const c of coverage) index.set(c, index.size);
  const sigOf = new Map<string, string>();
  const coversOf = new Map<string, Covered[]>([['', []]]);
  for (const [sym, list] of bySymbol) {
    list.sort((a, b) => a.startedAt - b.startedAt);
    let sig = '';
    for (const c of list) sig += `${index.get(c)},`;
    sigOf.set(sym, sig);
    if (!coversOf.has(sig)) coversOf.set(sig, list);
  }
  const groups = new Map<string, { span: Span; piece: Piece; symbols: string[] }>();
  for (const span of spans) {
    const bySig = new Map<string, string[]>();
    for (const sym of span.symbols) {
      const sig = sigOf.get(sym) ?? '';
      const same = bySig.get(sig);
      if (same) same.push(sym);
      else bySig.set(sig, [sym]);
    }
    for (const [sig, syms] of bySig) {
      for (const p of subtract(span.start, span.end, coversOf.get(sig)!)) {
        if (!span.final && p.end >= span.end) continue;
        const key = `${span.start}|${p.start}|${p.end}|${p.before}|${p.after}`;
        const g = groups.get(key);
        if (g) for (const sym of syms) g.symbols.push(sym);
        else groups.set(key, { span, piece: p, symbols: [...syms] });
      }
    }
  }
  const out: DerivedGap[] = [];
  for (const { span, piece, symbols } of groups.values()) {
    symbols.sort();
    out.push({
      label: labelOf(symbols, span.symbols),
      symbols,
      startedAt: piece.start,
      endedAt: piece.end,
      mode: span.mode,
      reason: reasonOf(piece, symbols, span, runs, notes),
    });
  }
  return out.sort((a, b) => a.startedAt - b.startedAt || a.label.localeCompare(b.label));
}

/** A stable, short key for a group of symbols (the feed_gaps key is (symbol, started_at)). */
export function labelOf(symbols: readonly string[], all: readonly string[]): string {
  if (symbols.length === all.length && symbols.length > 1) return '*';
  if (symbols.length <= 10) return symbols.join(',');
  let h = 0x811c9dc5;
  for (const s of symbols) for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return `${symbols[0]},…(+${symbols.length - 1}) #${(h >>> 0).toString(16)}`;
}

function reasonOf(
  p: Piece,
  symbols: readonly string[],
  span: Span,
  runs: readonly RunSpan[],
  notes: readonly Note[],
): string {
  const mine = new Set(symbols);
  const note = notes.find((n) => n.from < p.end && n.to > p.start && n.symbols.some((s) => mine.has(s)));
  if (note) return note.reason;
  if (!runs.some((r) => r.start < p.end && r.end > p.start)) return 'collector not running';
  if (p.before !== undefined && p.after !== undefined) return p.before === p.after ? 'feed down' : 'handover';
  // Without the calendar a span starts with its first run: its first second is partial by nature.
  if (p.before === undefined && p.start === span.start) return span.mode === 'skip' ? 'start' : 'late start';
  if (p.after === undefined && p.end === span.end) return 'stopped';
  return 'not confirmed by the database';
}
