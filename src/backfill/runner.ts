// One backfill pass over the ledger: every unfilled gap (of a date, of some symbols), grouped per
// (symbol, session date) so a symbol's day is fetched once however many gaps it has. Per group: find where the
// stored 100-tick series must be renumbered from, fetch the tape from there to the end of the day, rebuild the
// gaps' 1-second windows and the series, replace the stored rows, then mark each gap filled (or say why not).
import type pg from 'pg';
import { type ConditionMode, ConditionRules } from '../aggregate/conditions.js';
import { etDayNamed, etDayOf } from '../aggregate/etDay.js';
import { sessionOn } from '../calendar/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { type GapRow, listGaps, markGapError, markGapFilled } from '../store/writeGaps.js';
import { replaceFromTape, type SecondWindow } from '../store/writeTape.js';
import { BudgetExhausted } from './limits.js';
import { rebuild, type SessionBounds } from './rebuild.js';
import { seriesCut } from './seriesCut.js';
import { type TapeTrade, type TickApi, TickApiError } from './tickApi.js';

export interface BackfillSettings {
  candleLatenessMs: number;
  candleIntervalMs: number;
  tickCandleSize: number;
  sessionTailMs: number;
  skipMarketHours: boolean;
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
  /** Fetch and rebuild, but write nothing. */
  dryRun?: boolean;
  /** Asked between symbols: true stops the pass (a session is starting); the rest stays unfilled. */
  shouldStop?: () => boolean;
  /** Called once per gap as soon as its outcome is known (the CLI prints a line). */
  onGap?: (o: GapOutcome) => void;
}

export type GapState = 'filled' | 'not-loaded' | 'failed';

export interface GapOutcome {
  gap: GapRow;
  state: GapState;
  trades: number;
  error: string | null;
}

export interface BackfillResult {
  outcomes: GapOutcome[];
  /** Set when the API refused the key or plan (402/403): the pass stopped there. */
  denied: string | null;
}

interface Group {
  symbol: string;
  date: string;
  gaps: GapRow[];
}

interface GroupResult {
  state: GapState;
  error: string | null;
  /** Prints per gap id inside its window. */
  trades: Map<number, number>;
}

export async function runBackfill(req: BackfillRequest): Promise<BackfillResult> {
  const { settings: st, pool } = req;
  const L = st.candleLatenessMs;
  const day = req.date ? etDayNamed(req.date) : null;
  const gaps = await listGaps(pool, {
    unfilled: true,
    ...(day ? { fromMs: day.start - L, toMs: day.end + L } : {}),
  });
  const only = req.symbols ? new Set(req.symbols) : null;
  const groups = new Map<string, Group>();
  const groupsOf = new Map<number, Group[]>();
  for (const g of gaps) {
    const mine: Group[] = [];
    const dates = new Set([etDayOf(g.startedAt - L).date, etDayOf(g.endedAt + L).date]);
    for (const symbol of g.symbols) {
      if (only && !only.has(symbol)) continue;
      for (const date of dates) {
        if (req.date && date !== req.date) continue;
        const key = `${symbol}\u0000${date}`;
        let grp = groups.get(key);
        if (!grp) {
          grp = { symbol, date, gaps: [] };
          groups.set(key, grp);
        }
        grp.gaps.push(g);
        mine.push(grp);
      }
    }
    groupsOf.set(g.id, mine);
  }

  const results = new Map<Group, GroupResult>();
  let denied: string | null = null;
  // One 404 says the day is not loaded: the other symbols of that day are not asked this pass.
  const notLoaded = new Set<string>();
  let stopped = false;
  for (const grp of groups.values()) {
    if (denied !== null) {
      results.set(grp, { state: 'failed', error: denied, trades: new Map() });
      continue;
    }
    if (stopped || req.shouldStop?.()) {
      stopped = true;
      results.set(grp, { state: 'not-loaded', error: 'stopped: a session started', trades: new Map() });
      continue;
    }
    if (notLoaded.has(grp.date)) {
      results.set(grp, { state: 'not-loaded', error: 'not loaded yet', trades: new Map() });
      continue;
    }
    try {
      results.set(grp, await fillGroup(req, grp));
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof TickApiError && err.code === 'DENIED') {
        denied = msg;
        req.log.error({ component: 'backfill', status: err.status }, msg);
      }
      const state: GapState =
        err instanceof TickApiError && err.code === 'NOT_LOADED' ? 'not-loaded' : 'failed';
      if (state === 'not-loaded') notLoaded.add(grp.date);
      results.set(grp, { state, error: state === 'not-loaded' ? 'not loaded yet' : msg, trades: new Map() });
      if (err instanceof BudgetExhausted) denied = msg;
    }
  }

  const outcomes: GapOutcome[] = [];
  for (const g of gaps) {
    const mine = groupsOf.get(g.id)!;
    if (mine.length === 0) continue;
    const rs = mine.map((m) => results.get(m)!);
    const failed = rs.find((r) => r.state === 'failed');
    const notLoaded = rs.find((r) => r.state === 'not-loaded');
    const trades = rs.reduce((n, r) => n + (r.trades.get(g.id) ?? 0), 0);
    const o: GapOutcome = failed
      ? { gap: g, state: 'failed', trades, error: failed.error }
      : notLoaded
        ? { gap: g, state: 'not-loaded', trades, error: notLoaded.error }
        : { gap: g, state: 'filled', trades, error: null };
    // A gap limited to some symbols is filled only when none of its symbols was left out.
    const partial = only !== null && g.symbols.some((s) => !only.has(s));
    if (!req.dryRun && !partial) {
      if (o.state === 'filled') await markGapFilled(pool, g, req.clock.now(), trades);
      else await markGapError(pool, g.id, o.error ?? o.state);
    }
    outcomes.push(o);
    req.onGap?.(o);
  }
  return { outcomes, denied };
}

async function fillGroup(req: BackfillRequest, grp: Group): Promise<GroupResult> {
  const { settings: st, pool } = req;
  const L = st.candleLatenessMs;
  const iv = st.candleIntervalMs;
  const day = etDayNamed(grp.date);
  const cal = st.skipMarketHours ? null : sessionOn(grp.date);
  const trades = new Map<number, number>();
  if (!st.skipMarketHours && cal === null) {
    // No session that day: no candle can be missing.
    for (const g of grp.gaps) trades.set(g.id, 0);
    return { state: 'filled', error: null, trades };
  }
  const session: SessionBounds | null = cal
    ? { open: cal.open, close: cal.close, tailMs: st.sessionTailMs }
    : null;
  const windows: SecondWindow[] = grp.gaps.map((g) => ({
    fromMs: Math.max(day.start, Math.floor((g.startedAt - L) / iv) * iv),
    toMs: Math.min(day.end, Math.floor((g.endedAt + L) / iv) * iv + iv),
  }));
  const windowStart = Math.min(...windows.map((w) => w.fromMs));
  const cut = await seriesCut(pool, grp.symbol, grp.date, windowStart, day.start);
  const lastUseful = session ? session.close + session.tailMs : day.end;
  const to = Math.min(day.end - 1, lastUseful, req.clock.now());
  // Prints before the open enter no candle: never fetched.
  const from = Math.max(session ? session.open : day.start, Math.min(cut.cutTs, windowStart));
  const tape: TapeTrade[] = from <= to ? await req.api.fetchRange(grp.symbol, from, to) : [];
  const out = rebuild({
    symbol: grp.symbol,
    sessionDate: grp.date,
    tape,
    session,
    day,
    rules: new ConditionRules(st.candleConditions),
    intervalMs: iv,
    tickSize: st.tickCandleSize,
    windows,
    fromSeq: cut.fromSeq,
    cutTs: cut.cutTs,
  });
  for (const g of grp.gaps) {
    let n = 0;
    for (const t of tape) if (t.ts >= g.startedAt - L && t.ts <= g.endedAt + L) n++;
    trades.set(g.id, n);
  }
  if (!req.dryRun) {
    await replaceFromTape(pool, {
      symbol: grp.symbol,
      sessionDate: grp.date,
      windows,
      seconds: out.seconds,
      fromSeq: cut.fromSeq,
      ticks: out.ticks,
    });
  }
  req.log.info(
    {
      component: 'backfill',
      symbol: grp.symbol,
      date: grp.date,
      prints: tape.length,
      seconds: out.seconds.length,
      fromSeq: cut.fromSeq,
      ticks: out.ticks.length,
    },
    `${grp.symbol} ${grp.date}: ${tape.length} prints, ${out.seconds.length} 1 s candles, 100-tick series from seq ${cut.fromSeq}`,
  );
  return { state: 'filled', error: null, trades };
}
