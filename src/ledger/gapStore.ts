// Deriving the gaps of some days into feed_gaps (deriveAndStore).
// Plan each day's spans from collector_runs and the calendar, read coverage and notes, derive (derive.ts),
// and make the unfilled rows of those spans exactly the derived gaps (filled rows stay, as the history a user
// audits). One deriver at a time per database.
import type pg from 'pg';
import { etDayNamed, etDayOf } from '../aggregate/etDay.js';
import { sessionOn } from '../calendar/index.js';
import { type CoverageMode, readCoverage } from './coverageStore.js';
import { type DerivedGap, deriveGaps, type Note, type RunSpan, type Span } from './derive.js';

/** A run not seen for this long is not running (its heartbeat is ~1 s). */
export const RUN_LIVE_MS = 10_000;
/** How far back the daemon's first derivation looks (a week of missed sessions is still fetched). */
export const DERIVE_LOOKBACK_DAYS = 14;
const DERIVE_LOCK = 29_796;

interface RunRow {
  id: string;
  start: number;
  seen: number;
  stopped: number | null;
  mode: CoverageMode;
  symbols: string[];
}

export interface DeriveOptions {
  now: number;
  tailMs: number;
  /** The last `days` ET dates up to today's … */
  days?: number;
  /** … or exactly these dates (YYYY-MM-DD). */
  dates?: readonly string[];
}

/** Derives and stores the gaps of the days asked; returns them (empty when another deriver holds the lock). */
export async function deriveAndStore(pool: pg.Pool, o: DeriveOptions): Promise<DerivedGap[]> {
  const dates = o.dates ?? lastDates(o.now, o.days ?? 1);
  if (dates.length === 0) return [];
  const first = etDayNamed(dates[0]!);
  const last = etDayNamed(dates[dates.length - 1]!);
  const runs = await readRuns(pool, first.start);
  const spans = planSpans(dates, runs, o.now, o.tailMs);
  if (spans.length === 0) return [];
  const from = Math.min(...spans.map((s) => s.start));
  const to = Math.max(...spans.map((s) => s.end));
  const coverage = await readCoverage(pool, from, to);
  const notes = await readNotes(pool, from, to);
  const runSpans: RunSpan[] = runs.map((r) => ({ id: r.id, start: r.start, end: r.stopped ?? r.seen }));
  const gaps = deriveGaps(spans, coverage, runSpans, notes);
  await storeGaps(pool, gaps, spans, first.start, last.end);
  return gaps;
}

function lastDates(now: number, days: number): string[] {
  const out: string[] = [];
  let day = etDayOf(now);
  for (let i = 0; i < days; i++) {
    out.unshift(day.date);
    day = etDayOf(day.start - 1);
  }
  return out;
}

async function readRuns(pool: pg.Pool, from: number): Promise<RunRow[]> {
  // Runs touching the window, and the last one started before it (what was meant to run then).
  const r = await pool.query<{
    id: string;
    s: string;
    seen: string;
    stopped: string | null;
    mode: CoverageMode;
    symbols: string[];
  }>(
    `SELECT id, (extract(epoch FROM started_at) * 1000)::text AS s,
            (extract(epoch FROM seen_at) * 1000)::text AS seen,
            (extract(epoch FROM stopped_at) * 1000)::text AS stopped, mode, symbols
     FROM collector_runs
     WHERE coalesce(stopped_at, seen_at) >= to_timestamp($1 / 1000.0)
        OR id = (SELECT id FROM collector_runs WHERE started_at < to_timestamp($1 / 1000.0)
                 ORDER BY started_at DESC LIMIT 1)
     ORDER BY started_at`,
    [from],
  );
  return r.rows.map((x) => ({
    id: x.id,
    start: Math.round(Number(x.s)),
    seen: Math.round(Number(x.seen)),
    stopped: x.stopped === null ? null : Math.round(Number(x.stopped)),
    mode: x.mode,
    symbols: x.symbols,
  }));
}

/**
 * Each date's spans. A calendar session is owed from the first calendar-mode run on: to the symbols of the
 * runs during it, or (none ran) of the last run before it, so a day with no collector at all is a gap. A
 * --skip-market-hours day is the span of that day's runs, outside the calendar session if one is owed too.
 */
export function planSpans(
  dates: readonly string[],
  runs: readonly RunRow[],
  now: number,
  tailMs: number,
): Span[] {
  const spans: Span[] = [];
  const firstCalendar = runs.find((r) => r.mode === 'calendar');
  for (const date of dates) {
    const day = etDayNamed(date);
    const endOf = (r: RunRow) => r.stopped ?? r.seen;
    const live = (r: RunRow) => r.stopped === null && now - r.seen < RUN_LIVE_MS;
    const during = (r: RunRow, a: number, b: number) => r.start < b && endOf(r) > a;
    const session = sessionOn(date);
    let cal: Span | null = null;
    if (session && firstCalendar && firstCalendar.start < session.close + tailMs) {
      const end = session.close + tailMs;
      const inSession = runs.filter((r) => r.mode === 'calendar' && during(r, session.open, end));
      const before = runs.filter((r) => r.start < session.open);
      const last = before[before.length - 1];
      const symbols =
        inSession.length > 0
          ? union(inSession.map((r) => r.symbols))
          : last?.mode === 'calendar'
            ? last.symbols
            : [];
      if (symbols.length > 0) {
        cal = { start: session.open, end, mode: 'calendar', symbols, final: now >= end };
        spans.push(cal);
      }
    }
    const skip = runs.filter((r) => r.mode === 'skip' && during(r, day.start, day.end));
    if (skip.length > 0) {
      const start = Math.max(day.start, Math.min(...skip.map((r) => r.start)));
      const end = Math.min(day.end, Math.max(...skip.map(endOf)));
      const symbols = union(skip.map((r) => r.symbols));
      const final = !skip.some(live) || end === day.end;
      // Inside a calendar session the calendar's span already asks for every second.
      for (const [a, b] of cal ? minus(start, end, cal.start, cal.end) : [[start, end] as const]) {
        if (b > a) spans.push({ start: a, end: b, mode: 'skip', symbols, final: final || b < end });
      }
    }
  }
  return spans;
}

function minus(a: number, b: number, c: number, d: number): Array<readonly [number, number]> {
  if (d <= a || c >= b) return [[a, b]];
  return [
    [a, Math.min(b, c)],
    [Math.max(a, d), b],
  ];
}

function union(lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())].sort();
}

async function readNotes(pool: pg.Pool, from: number, to: number): Promise<Note[]> {
  const r = await pool.query<{ symbols: string[]; f: string; t: string; reason: string }>(
    `SELECT symbols, (extract(epoch FROM started_at) * 1000)::text AS f,
            (extract(epoch FROM ended_at) * 1000)::text AS t, reason
     FROM coverage_notes
     WHERE ended_at >= to_timestamp($1 / 1000.0) AND started_at < to_timestamp($2 / 1000.0)
     ORDER BY started_at`,
    [from, to],
  );
  return r.rows.map((x) => ({
    symbols: x.symbols,
    from: Math.round(Number(x.f)),
    to: Math.round(Number(x.t)),
    reason: x.reason,
  }));
}

/**
 * Makes the unfilled feed_gaps rows inside the spans the derived ones: upserts by (label, started_at), a
 * filled row that grew is unfilled again, and an unfilled row no longer derived (its time was confirmed
 * since, or it was regrouped) is removed. Filled rows are kept.
 */
async function storeGaps(
  pool: pg.Pool,
  gaps: readonly DerivedGap[],
  spans: readonly Span[],
  from: number,
  to: number,
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const lock = await client.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_xact_lock(${DERIVE_LOCK}, hashtext(current_schema())) AS ok`,
    );
    if (!lock.rows[0]?.ok) {
      await client.query('ROLLBACK');
      return;
    }
    await client.query(
      `INSERT INTO feed_gaps AS g (symbol, started_at, ended_at, reason, symbols, mode)
       SELECT s, to_timestamp(st / 1000.0), to_timestamp(en / 1000.0), r, string_to_array(sy, ','), m
       FROM unnest($1::text[], $2::float8[], $3::float8[], $4::text[], $5::text[], $6::text[])
            AS u(s, st, en, r, sy, m)
       ON CONFLICT (symbol, started_at) DO UPDATE SET
         ended_at = EXCLUDED.ended_at, reason = EXCLUDED.reason, symbols = EXCLUDED.symbols, mode = EXCLUDED.mode,
         filled_at = CASE WHEN EXCLUDED.ended_at > g.ended_at THEN NULL ELSE g.filled_at END
       WHERE (g.ended_at, g.reason, g.symbols, g.mode) IS DISTINCT FROM
             (EXCLUDED.ended_at, EXCLUDED.reason, EXCLUDED.symbols, EXCLUDED.mode)`,
      [
        gaps.map((g) => g.label),
        gaps.map((g) => g.startedAt),
        gaps.map((g) => g.endedAt),
        gaps.map((g) => g.reason),
        gaps.map((g) => g.symbols.join(',')),
        gaps.map((g) => g.mode),
      ],
    );
    await client.query(
      `DELETE FROM feed_gaps g
       WHERE g.filled_at IS NULL AND g.started_at >= to_timestamp($1 / 1000.0)
         AND g.started_at < to_timestamp($2 / 1000.0)
         AND EXISTS (SELECT 1 FROM unnest($5::float8[], $6::float8[]) AS sp(a, b)
                     WHERE g.started_at >= to_timestamp(sp.a / 1000.0) AND g.started_at < to_timestamp(sp.b / 1000.0))
         AND NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::float8[]) AS k(s, st)
                         WHERE k.s = g.symbol AND g.started_at = to_timestamp(k.st / 1000.0))`,
      [
        from,
        to,
        gaps.map((g) => g.label),
        gaps.map((g) => g.startedAt),
        spans.map((s) => s.start),
        spans.map((s) => s.end),
      ],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
