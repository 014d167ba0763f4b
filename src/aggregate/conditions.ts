// Trade conditions → what a trade may update in a candle (docs/ARCHITECTURE.md "Condition rules").
// Pure: the rules are the table in conditionTable.ts, turned once into small lookup arrays so the hot path
// costs one array read per condition id and never touches a string.
import { CONDITION_ROWS, EXTENDED_HOURS_IDS, LETTER_IDS } from './conditionTable.js';

/** The trade may set high/low. */
export const UPDATES_HIGH_LOW = 1;
/** The trade may set open/close. */
export const UPDATES_OPEN_CLOSE = 2;
/** The trade counts in volume and vwap. */
export const UPDATES_VOLUME = 4;
/** Every field: a regular trade (and every trade under CANDLE_CONDITIONS=all). */
export const UPDATES_ALL = UPDATES_HIGH_LOW | UPDATES_OPEN_CLOSE | UPDATES_VOLUME;
/** Not an update rule: the print was made outside regular hours (Form T, 12/13; letters T, U). */
export const EXTENDED_HOURS = 8;

export type ConditionMode = 'sip' | 'all';

/** Ids below this are looked up in an array; larger ones are unknown by definition (none is in the table). */
const ID_SPAN = 256;
/** Marks an id (or letter) with no rule. */
const UNKNOWN = 0x80;
/** Distinct unknown codes counted one by one (a hostile feed must not grow the map, or /metrics, for ever). */
const MAX_UNKNOWN_CODES = 64;
/** Where the unknown codes beyond MAX_UNKNOWN_CODES are counted. */
export const OTHER_CODES = 'other';

function rowFlags(hl: boolean, oc: boolean, vol: boolean): number {
  return (hl ? UPDATES_HIGH_LOW : 0) | (oc ? UPDATES_OPEN_CLOSE : 0) | (vol ? UPDATES_VOLUME : 0);
}

/** flags by id, UNKNOWN where the table has no row. */
const BY_ID = new Uint8Array(ID_SPAN).fill(UNKNOWN);
for (const [id, hl, oc, vol] of CONDITION_ROWS) BY_ID[id] = rowFlags(hl, oc, vol);
for (const id of EXTENDED_HOURS_IDS) BY_ID[id] = BY_ID[id]! | EXTENDED_HOURS;

/** flags by character code (ASCII), UNKNOWN where no letter rule exists; '@' and ' ' update everything. */
const BY_CHAR = new Uint8Array(128).fill(UNKNOWN);
BY_CHAR[32] = UPDATES_ALL;
BY_CHAR[64] = UPDATES_ALL;
for (const [letter, id] of Object.entries(LETTER_IDS)) BY_CHAR[letter.charCodeAt(0)] = BY_ID[id]!;

/** What a classified trade updated, for /metrics. */
export interface ConditionStats {
  /** Trades that update every field. */
  all: number;
  /** Trades that count in volume only (odd lots, average-price prints, …). */
  volumeOnly: number;
  /** Trades that update nothing (official open/close reports): in no candle. */
  none: number;
  /** Any other combination (e.g. high/low and volume, not open/close). */
  partial: number;
  /** Trades per condition id (or `sl` letter) with no rule: they update everything. */
  unknown: Map<string, number>;
}

/**
 * Classifies trades by their conditions under one mode. Counts what each trade updated; an id with no rule
 * updates everything, is counted per id, and is reported once through `onUnknown` (a new code shows up in the
 * logs and metrics, never silently changes candles).
 */
export class ConditionRules {
  readonly mode: ConditionMode;
  /** Trades by the update bits they got (index 0–7): one increment per trade, summed at scrape time. */
  private readonly byUpdates = new Float64Array(8);
  private readonly unknownCodes = new Map<string, number>();
  private readonly onUnknown: (code: string) => void;

  constructor(mode: ConditionMode, onUnknown: (code: string) => void = () => undefined) {
    this.mode = mode;
    this.onUnknown = onUnknown;
  }

  /** What the classified trades updated (read at scrape time, never on the trade path). */
  get stats(): ConditionStats {
    const b = this.byUpdates;
    let partial = 0;
    for (let f = 1; f < UPDATES_ALL; f++) if (f !== UPDATES_VOLUME) partial += b[f]!;
    return {
      all: b[UPDATES_ALL]!,
      volumeOnly: b[UPDATES_VOLUME]!,
      none: b[0]!,
      partial,
      unknown: this.unknownCodes,
    };
  }

  /** Flags of a trade with these numeric condition ids (the WebSocket's `c`); empty = regular. */
  ofIds(ids: readonly number[]): number {
    let f = UPDATES_ALL;
    let ext = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      // A typed array answers undefined for a negative, fractional or too large index: no rule.
      const r = BY_ID[id] ?? UNKNOWN;
      if (r === UNKNOWN) {
        this.unknown(String(id));
        continue;
      }
      f &= r;
      ext |= r & EXTENDED_HOURS;
    }
    return this.count(f, ext);
  }

  /** Flags of a trade with this `sl` string (the tick API's letters, e.g. '@ TI', ' 4 B'). */
  ofLetters(sl: string): number {
    let f = UPDATES_ALL;
    let ext = 0;
    for (let i = 0; i < sl.length; i++) {
      const r = BY_CHAR[sl.charCodeAt(i)] ?? UNKNOWN;
      if (r === UNKNOWN) {
        this.unknown(`'${sl[i]}'`);
        continue;
      }
      f &= r;
      ext |= r & EXTENDED_HOURS;
    }
    return this.count(f, ext);
  }

  private count(updates: number, ext: number): number {
    const u = this.mode === 'all' ? UPDATES_ALL : updates & UPDATES_ALL;
    this.byUpdates[u]!++;
    return u | ext;
  }

  private unknown(code: string): void {
    const m = this.unknownCodes;
    const n = m.get(code);
    if (n !== undefined) m.set(code, n + 1);
    else if (m.size < MAX_UNKNOWN_CODES) {
      m.set(code, 1);
      this.onUnknown(code);
    } else m.set(OTHER_CODES, (m.get(OTHER_CODES) ?? 0) + 1);
  }
}

/**
 * Whether a trade enters the candles of a session [open, close): every trade timed inside it, and in the
 * `tailMs` after the close those not marked extended-hours (the closing auction prints at or just after the
 * close; late Form T reports do not).
 */
export function inSessionCandles(
  open: number,
  close: number,
  tailMs: number,
  ts: number,
  flags: number,
): boolean {
  if (ts >= open && ts < close) return true;
  return ts >= close && ts < close + tailMs && (flags & EXTENDED_HOURS) === 0;
}
