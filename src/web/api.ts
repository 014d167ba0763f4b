// The JSON API's query parameters (symbolParam, kindParam, timeParam, limitParam, gapWindow).
// Parsed and bounded here, so a handler only ever runs a query it can afford. Every problem is a ParamError,
// answered 400 with its message.
import { DateTime } from 'luxon';
import { NYSE_ZONE } from '../calendar/index.js';
import { clampLimit, RANGE_KINDS, type RangeKind } from '../store/read/candleRange.js';
import { TIMEFRAMES, type Timeframe } from '../store/read/timeframes.js';

export class ParamError extends Error {}

export const DEFAULT_LIMIT = 1_000;
/** /api/gaps with from/to: at most this wide. */
export const MAX_GAP_SPAN_MS = 31 * 86_400_000;

const SYMBOL = /^[A-Z0-9][A-Z0-9.\-/^=]{0,19}$/;
// 1990-01-01 … 2100-01-01: anything outside is a typo, and etDate() only knows 1990–2035 well anyway.
const MIN_MS = 631_152_000_000;
const MAX_MS = 4_102_444_800_000;

export function symbolParam(q: URLSearchParams, required = true): string | null {
  const raw = q.get('symbol');
  if (raw === null || raw.trim() === '') {
    if (required) throw new ParamError('symbol is required, e.g. symbol=AAPL');
    return null;
  }
  const s = raw.trim().toUpperCase();
  if (!SYMBOL.test(s)) throw new ParamError(`symbol "${raw.slice(0, 40)}" is not a ticker`);
  return s;
}

/** What /api/candles serves: the collector's candles and the bars built from the 1-second ones. */
export type ApiKind = RangeKind | Timeframe;
export const API_KINDS: readonly ApiKind[] = [...RANGE_KINDS, ...TIMEFRAMES];

/** `kind`, default 1s, one of `kinds` (the stream carries only the collector's own candles). */
export function kindParam<K extends string = RangeKind>(
  q: URLSearchParams,
  kinds: readonly K[] = RANGE_KINDS as readonly string[] as readonly K[],
): K {
  const raw = q.get('kind') ?? '1s';
  if (!(kinds as readonly string[]).includes(raw)) {
    throw new ParamError(`kind must be one of ${kinds.join(', ')}, got "${raw.slice(0, 20)}"`);
  }
  return raw as K;
}

export const isTimeframe = (k: string): k is Timeframe => (TIMEFRAMES as readonly string[]).includes(k);

/** Epoch milliseconds or an ISO-8601 time (a bare date is midnight UTC). */
export function timeParam(q: URLSearchParams, name: string): number | null {
  const raw = q.get(name);
  if (raw === null || raw.trim() === '') return null;
  const ms = /^\d+$/.test(raw.trim()) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS) {
    throw new ParamError(`${name} must be epoch milliseconds or an ISO-8601 time, got "${raw.slice(0, 40)}"`);
  }
  return ms;
}

export function limitParam(q: URLSearchParams): number {
  const raw = q.get('limit');
  if (raw === null || raw.trim() === '') return DEFAULT_LIMIT;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) {
    throw new ParamError(`limit must be a whole number ≥ 1, got "${raw.slice(0, 20)}"`);
  }
  return clampLimit(Number(raw));
}

/** The [from, to) of /api/gaps: `date` (a New York date, default today there) or `from`/`to`. */
export function gapWindow(
  q: URLSearchParams,
  now: number,
): { from: number; to: number; date: string | null } {
  const from = timeParam(q, 'from');
  const to = timeParam(q, 'to');
  if (from !== null || to !== null) {
    const f = from ?? (to as number) - 86_400_000;
    const t = to ?? now;
    if (t <= f) throw new ParamError('to must be after from');
    if (t - f > MAX_GAP_SPAN_MS) throw new ParamError('from…to spans at most 31 days');
    return { from: f, to: t, date: null };
  }
  const raw = q.get('date');
  const day =
    raw === null || raw.trim() === ''
      ? DateTime.fromMillis(now, { zone: NYSE_ZONE }).startOf('day')
      : /^\d{4}-\d{2}-\d{2}$/.test(raw)
        ? DateTime.fromISO(raw, { zone: NYSE_ZONE })
        : null;
  if (!day?.isValid || day.toMillis() < MIN_MS || day.toMillis() > MAX_MS) {
    throw new ParamError(`date must be YYYY-MM-DD (a New York date), got "${(raw ?? '').slice(0, 20)}"`);
  }
  return { from: day.toMillis(), to: day.plus({ days: 1 }).toMillis(), date: day.toISODate() };
}
