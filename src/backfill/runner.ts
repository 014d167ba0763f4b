// One backfill pass over the ledger (runBackfill): fetch each gap's tape, rebuild, replace, mark filled.
// Every unfilled gap (of a date, of some symbols), grouped per (symbol, ET day, mode) so a symbol's day is
// fetched once however many gaps it has; every day a gap spans is a group (with mode 'calendar' only the days
// with a session). Per group: find where the stored 100-tick series must be renumbered from, fetch the tape
// from there to the end of the day, rebuild the gaps' 1-second windows (whole minutes) and the series under
// the rules the collection ran under (the gap's `mode`, never the backfill's own flags), and replace the
// stored rows only where the tape is at least as complete as them (completeness.ts), recording tape coverage
// in the same transaction. Then each gap is marked filled, or says why not (fill_error).
// One pass at a time per database (lock.ts); the request budget is shared through the database
// (sharedBudget.ts), so N replicas stay within one budget.
import type pg from 'pg';
import { type ConditionMode, ConditionRules, inSessionCandles } from '../aggregate/conditions.js';
import { etDayNamed, etDayOf } from '../aggregate/etDay.js';
import { sessionOn } from '../calendar/index.js';
import type { Clock } from '../clock.js';
import { type CoverageMode, readCoverage } from '../ledger/coverageStore.js';
import type { Logger } from '../log/logger.js';
import { addCounts, judge, type ReplaceCounts, zeroCounts } from './completeness.js';
import { type LedgerGap, markFilled, markUnfilled, unfilledGaps } from './ledger.js';
import { BudgetExhausted } from './limits.js';
import { tryBackfillLock } from './lock.js';
import { rebuild, type SessionBounds } from './rebuild.js';
import { seriesCut } from './seriesCut.js';
import { SharedBudget } from './sharedBudget.js';
import { type TapeTrade, type TickApi, TickApiError } from './tickApi.js';
import { replaceFromTape, type SecondWindow } from './writeTape.js';

export interface BackfillSettings {
  candleLatenessMs: number;
  candleIntervalMs: number;
  tickCandleSize: number;
  sessionTailMs: number;
  candleConditions: ConditionMode;
}

export interface BackfillRequest {
  pool: pg.Pool;
  api: TickApi;
  settings: BackfillSettings;
  clock: Clock;
  log: Logger;
  /** Only gaps touching this ET date. */
  date?: string | null;
  /** Only these symbols. */
  symbols?: readonly string[] | null;
  /** Fetch, rebuild and compare, but write nothing: say what would be replaced and deleted. */
  dryRun?: boolean;
  /** Asked between symbols: true stops the pass (a session is starting); the rest stays unfilled. */
  shouldStop?: () => boolean;
  /** Called once per gap as soon as its outcome is known (the CLI prints a line). */
  onGap?: (o: GapOutcome) => void;
  /**
   * The request budget shared by every process backfilling this database (migration 0013). Null or absent:
   * only the API client's own limits.
   */
  budget?: { perMinute: number; perDay: number } | null;
}

/**
 * filled: replaced (or, in a dry run, would be); not-loaded: the tape has nothing yet (404, or an empty answer
 * where candles are stored); refused: the tape has fewer prints than what is stored (or the day was collected
 * under other rules), so the stored rows stay; failed: an error.
 */
export type GapState = 'filled' | 'not-loaded' | 'refused' | 'failed';

export interface GapOutcome {
  gap: LedgerGap;
  state: GapState;
  /** Prints of the tape inside the gap's own interval (those its candles take). */
  trades: number;
  error: string | null;
  /** Rows replaced / deleted / inserted per table for this gap's (symbol, day)s (a dry run: would be). */
  counts: ReplaceCounts;
}

export interface BackfillResult {
  outcomes: GapOutcome[];
  /** Set when the API refused the key or plan (402/403) or the daily budget is used up: the pass stopped there. */
  denied: string | null;
  /** Set when another backfill holds this database's lock: nothing was done. */
  busy: string | null;
  /** Every (symbol, day) once. */
  counts: ReplaceCounts;
  /** Tick API requests this pass made. */
  requests: number;
}

interface Group {
  symbol: string;
  date: string;
  mode: CoverageMode;
  gaps: LedgerGap[];
}

interface GroupResult {
  state: GapState;
  error: string | null;
  /** Prints per gap id inside its own interval. */
  trades: Map<number, number>;
  counts: ReplaceCounts;
}

const MINUTE = 60_000;

/** Every ET day from the one holding `fromMs` to the one holding `toMs`. */
function etDays(fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  for (let d = etDayOf(fromMs); d.start <= toMs; d = etDayOf(d.end)) out.push(d.date);
  return out;
}

export async function runBackfill(req: BackfillRequest): Promise<BackfillResult> {
  const lock = await tryBackfillLock(req.pool);
  if (lock === null) {
    const busy = 'another backfill is running on this database; nothing done';
    req.log.warn({ component: 'backfill' }, busy);
    return { outcomes: [], denied: null, busy, counts: zeroCounts(), requests: 0 };
  }
  try {
    const b = req.budget;
    const api = b
      ? req.api.withLimits(new SharedBudget(req.pool, req.clock, b.perMinute, b.perDay))
      : req.api;
    return await pass({ ...req, api });
  } finally {
    await lock.release();
  }
}

async function pass(req: BackfillRequest): Promise<BackfillResult> {
  const { settings: st, pool } = req;
  const L = st.candleLatenessMs;
  const day = req.date ? etDayNamed(req.date) : null;
  const gaps = await unfilledGaps(pool, day ? { fromMs: day.start - L, toMs: day.end + L } : {});
  const only = req.symbols ? new Set(req.symbols) : null;
  const groups = new Map<string, Group>();
  const groupsOf = new Map<number, Group[]>();
  for (const g of gaps) {
    const mine: Group[] = [];
    const dates = etDays(g.startedAt - L, g.endedAt + L);
    for (const symbol of g.symbols) {
      if (only && !only.has(symbol)) continue;
      for (const date of dates) {
        if (req.date && date !== req.date) continue;
        const key = `${symbol}\u0000${date}\u0000${g.mode}`;
        let grp = groups.get(key);
        if (!grp) {
          grp = { symbol, date, mode: g.mode, gaps: [] };
          groups.set(key, grp);
        }
        grp.gaps.push(g);
        mine.push(grp);
      }
    }
    groupsOf.set(g.id, mine);
  }

  const results = new Map<Group, GroupResult>();
  const total = zeroCounts();
  let denied: string | null = null;
  // One 404 says the day is not loaded: the other symbols of that day are not asked this pass.
  const notLoaded = new Set<string>();
  let stopped = false;
  const none = (state: GapState, error: string): GroupResult => ({
    state,
    error,
    trades: new Map(),
    counts: zeroCounts(),
  });
  for (const grp of groups.values()) {
    if (denied !== null) {
      results.set(grp, none('failed', denied));
      continue;
    }
    if (stopped || req.shouldStop?.()) {
      stopped = true;
      results.set(grp, none('not-loaded', 'stopped: a session started'));
      continue;
    }
    if (notLoaded.has(grp.date)) {
      results.set(grp, none('not-loaded', 'not loaded yet'));
      continue;
    }
    try {
      const r = await fillGroup(req, grp);
      results.set(grp, r);
      addCounts(total, r.counts);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof TickApiError && err.code === 'DENIED') {
        denied = msg;
        req.log.error({ component: 'backfill', status: err.status }, msg);
      }
      if (err instanceof BudgetExhausted) denied = msg;
      const loaded = !(err instanceof TickApiError && err.code === 'NOT_LOADED');
      if (!loaded) notLoaded.add(grp.date);
      results.set(grp, loaded ? none('failed', msg) : none('not-loaded', 'not loaded yet'));
    }
  }

  const order: GapState[] = ['failed', 'refused', 'not-loaded'];
  const outcomes: GapOutcome[] = [];
  for (const g of gaps) {
    const mine = groupsOf.get(g.id)!;
    if (mine.length === 0) continue;
    const rs = mine.map((m) => results.get(m)!);
    const counts = zeroCounts();
    for (const r of rs) addCounts(counts, r.counts);
    const trades = rs.reduce((n, r) => n + (r.trades.get(g.id) ?? 0), 0);
    const worst = order.map((s) => rs.find((r) => r.state === s)).find((r) => r !== undefined);
    const o: GapOutcome = worst
      ? { gap: g, state: worst.state, trades, error: worst.error, counts }
      : { gap: g, state: 'filled', trades, error: null, counts };
    // A gap limited to some symbols is filled only when none of its symbols was left out.
    const partial = only !== null && g.symbols.some((s) => !only.has(s));
    if (!req.dryRun && !partial) {
      if (o.state === 'filled') await markFilled(pool, g, req.clock.now(), trades);
      else await markUnfilled(pool, g.id, o.error ?? o.state);
    }
    outcomes.push(o);
    req.onGap?.(o);
  }
  return { outcomes, denied, busy: null, counts: total, requests: req.api.requests };
}

/** The gaps' 1-second windows of one day, widened by the lateness and to whole minutes, merged. */
export function groupWindows(
  gaps: readonly { startedAt: number; endedAt: number }[],
  day: { start: number; end: number },
  latenessMs: number,
  intervalMs: number,
): SecondWindow[] {
  // Whole minutes: candles_1m's triggers then recompute a touched minute from tape seconds only, never from a
  // few rebuilt seconds beside (or without) the ones retention may have dropped.
  const unit = MINUTE % intervalMs === 0 ? MINUTE : intervalMs;
  const ws = gaps
    .map((g) => ({
      fromMs: Math.max(day.start, Math.floor((g.startedAt - latenessMs) / unit) * unit),
      toMs: Math.min(day.end, Math.floor((g.endedAt + latenessMs) / unit) * unit + unit),
    }))
    .filter((w) => w.fromMs < w.toMs)
    .sort((a, b) => a.fromMs - b.fromMs);
  const out: SecondWindow[] = [];
  for (const w of ws) {
    const last = out.at(-1);
    if (last && w.fromMs <= last.toMs) last.toMs = Math.max(last.toMs, w.toMs);
    else out.push({ ...w });
  }
  return out;
}

async function fillGroup(req: BackfillRequest, grp: Group): Promise<GroupResult> {
  const { settings: st, pool } = req;
  const iv = st.candleIntervalMs;
  const day = etDayNamed(grp.date);
  const trades = new Map<number, number>();
  const result = (state: GapState, error: string | null, counts = zeroCounts()): GroupResult => ({
    state,
    error,
    trades,
    counts,
  });
  // The rules the collection ran under: the calendar's session, or (skip) every trade of the ET day.
  const cal = grp.mode === 'calendar' ? sessionOn(grp.date) : null;
  if (grp.mode === 'calendar' && cal === null) {
    // No session that day: no candle can be missing.
    for (const g of grp.gaps) trades.set(g.id, 0);
    return result('filled', null);
  }
  const session: SessionBounds | null = cal
    ? { open: cal.open, close: cal.close, tailMs: st.sessionTailMs }
    : null;
  const windows = groupWindows(grp.gaps, day, st.candleLatenessMs, iv);
  if (windows.length === 0) return result('filled', null);
  const windowStart = windows[0]!.fromMs;
  const cut = await seriesCut(pool, grp.symbol, grp.date, windowStart, day.start);
  const lastUseful = session ? session.close + session.tailMs : day.end - 1;
  const to = Math.min(day.end - 1, lastUseful, req.clock.now());
  // Prints before the open enter no candle: never fetched.
  const from = Math.max(session ? session.open : day.start, Math.min(cut.cutTs, windowStart));
  if (from > to) return result('not-loaded', `not loaded yet: ${grp.date} has no tape before now`);

  // The candles around the gap were made under the rules their coverage says: rebuilding the series (to the
  // end of the day) under other rules would change rows the gap never touched.
  const other = (await readCoverage(pool, from, to + 1, [grp.symbol])).find((c) => c.mode !== grp.mode);
  if (other) {
    const msg = `${grp.symbol} ${grp.date} was collected under ${other.mode} rules too (coverage #${other.id}), the gap under ${grp.mode}: not rebuilt`;
    req.log.warn({ component: 'backfill', symbol: grp.symbol, date: grp.date }, msg);
    return result('refused', msg);
  }

  const tape: TapeTrade[] = await req.api.fetchRange(grp.symbol, from, to);
  const rules = new ConditionRules(st.candleConditions);
  const out = rebuild({
    symbol: grp.symbol,
    sessionDate: grp.date,
    tape,
    session,
    day,
    rules,
    intervalMs: iv,
    tickSize: st.tickCandleSize,
    windows,
    fromSeq: cut.fromSeq,
    cutTs: cut.cutTs,
  });
  // The trades a gap reports: prints inside its own interval that its candles take.
  for (const g of grp.gaps) {
    let n = 0;
    for (const t of tape) {
      if (t.ts < g.startedAt || t.ts >= g.endedAt) continue;
      if (
        session &&
        !inSessionCandles(session.open, session.close, session.tailMs, t.ts, rules.ofLetters(t.sl))
      )
        continue;
      n++;
    }
    trades.set(g.id, n);
  }

  const coverage = windows
    .map((w) => ({ fromMs: Math.max(w.fromMs, from), toMs: Math.min(w.toMs - 1, to) }))
    .filter((w) => w.fromMs <= w.toMs);
  const r = await replaceFromTape(
    pool,
    {
      symbol: grp.symbol,
      sessionDate: grp.date,
      windows,
      seconds: out.seconds,
      fromSeq: cut.fromSeq,
      ticks: out.ticks,
      coverage: { mode: grp.mode, intervals: coverage },
      dryRun: req.dryRun === true,
    },
    (stored) => judge(stored, out.seconds, out.ticks).shortfall === null,
  );
  const v = judge(r.stored, out.seconds, out.ticks);
  const fields = {
    component: 'backfill',
    symbol: grp.symbol,
    date: grp.date,
    mode: grp.mode,
    prints: tape.length,
    seconds: out.seconds.length,
    fromSeq: cut.fromSeq,
    ticks: out.ticks.length,
  };
  if (v.shortfall !== null) {
    // Nothing of this (symbol, day) was replaced: every stored row stays, the gap stays uncovered.
    const empty = tape.length === 0;
    const msg = empty
      ? `not loaded yet: the tick API has no prints of ${grp.symbol} on ${grp.date} where ${v.storedRows} candles are stored`
      : `tape incomplete, nothing replaced: ${v.shortfall}`;
    req.log.warn(fields, `${grp.symbol} ${grp.date}: ${msg}`);
    return result(empty ? 'not-loaded' : 'refused', msg);
  }
  req.log.info(
    fields,
    `${grp.symbol} ${grp.date}: ${tape.length} prints, ${out.seconds.length} 1 s candles, 100-tick series from seq ${cut.fromSeq}${req.dryRun ? ' (dry run)' : ''}`,
  );
  return result('filled', null, v.counts);
}
