// The feed's hot-path parser: a frame's bytes to a ParsedMessage, without decoding or JSON.parse.
// A frame's bytes → the same ParsedMessage as parseMessage(bytes as UTF-8), without decoding the frame to a
// string or building a generic object: the feed's hot path (half of a bare client's time is UTF-8 decoding
// and JSON.parse). It reads only the shape EODHD sends: one flat object, no white space, ASCII strings
// without escapes, numbers of at most 15 digits without an exponent, literals, arrays of such numbers.
// Anything else (a status frame, an escape, an exponent, a nested object, a syntax error) goes to
// parseMessage, so both give the same answer for every input (test/feed/parseFrame.test.ts checks it).
// Numbers are exact: m / 10^k with m < 2^53 and k ≤ 15 is one correctly rounded division, as JSON.parse's.
import { type ParsedMessage, parseMessage, tradeOf } from './parse.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);
const MAX_DIGITS = 15;
/** Strings up to this length are interned (symbols, market status): one string per symbol, not per trade. */
const INTERN_MAX = 32;
const INTERN_ENTRIES = 50_000;

/** Not the shape read here: parseMessage decides. */
const OTHER = Symbol('other');

let buf: Buffer = Buffer.alloc(0);
let pos = 0;
let end = 0;
const interned = new Map<number, string>();

/**
 * The frame is `b[start, stop)`: the feed's socket hands over its frames where they lie in the chunk read,
 * without a Buffer per frame. A read past `stop` (the next frame's header) can only end in the general path:
 * positions only grow and success needs the closing brace exactly at `stop - 1`.
 */
export function parseFrame(
  b: Buffer,
  seq: number,
  receivedAt: number,
  start = 0,
  stop = b.length,
): ParsedMessage {
  return (
    fast(b, start, stop, seq, receivedAt) ?? parseMessage(b.toString('utf8', start, stop), seq, receivedAt)
  );
}

function fast(b: Buffer, start: number, stop: number, seq: number, receivedAt: number): ParsedMessage | null {
  buf = b;
  end = stop;
  if (stop - start < 2 || b[start] !== OPEN_OBJECT || b[start + 1] !== QUOTE) return null;
  pos = start + 1;
  let s: unknown;
  let p: unknown;
  let v: unknown;
  let t: unknown;
  let c: unknown;
  let dp: unknown;
  let ms: unknown;
  for (;;) {
    if (b[pos] !== QUOTE) return null;
    const k0 = pos + 1;
    let k = k0;
    while (k < end && b[k] !== QUOTE) {
      const ch = b[k]!;
      if (ch === BACKSLASH || ch < 0x20 || ch >= 0x80) return null;
      k++;
    }
    if (k >= end || b[k + 1] !== COLON) return null;
    pos = k + 2;
    const val = value();
    if (val === OTHER) return null;
    // The last of a repeated key counts, as in JSON.parse.
    if (k - k0 === 1) {
      const ch = b[k0];
      if (ch === 0x73) s = val;
      else if (ch === 0x70) p = val;
      else if (ch === 0x76) v = val;
      else if (ch === 0x74) t = val;
      else if (ch === 0x63) c = val;
    } else if (k - k0 === 2) {
      if (b[k0] === 0x64 && b[k0 + 1] === 0x70) dp = val;
      else if (b[k0] === 0x6d && b[k0 + 1] === 0x73) ms = val;
    }
    const ch = b[pos];
    if (ch === COMMA) {
      pos++;
      continue;
    }
    if (ch === CLOSE_OBJECT && pos === end - 1) break;
    return null;
  }
  if (s === undefined) return null; // a status frame or no symbol: the general path says which
  return tradeOf(s, p, v, t, c, dp, ms, seq, receivedAt);
}

function value(): unknown {
  const ch = buf[pos];
  if (ch === QUOTE) return string();
  if (ch === MINUS || (ch !== undefined && ch >= ZERO && ch <= NINE)) return number();
  if (ch === OPEN_ARRAY) return array();
  if (ch === 0x74 && word('true')) return true;
  if (ch === 0x66 && word('false')) return false;
  if (ch === 0x6e && word('null')) return null;
  return OTHER;
}

function word(w: string): boolean {
  if (pos + w.length > end) return false;
  for (let i = 1; i < w.length; i++) if (buf[pos + i] !== w.charCodeAt(i)) return false;
  pos += w.length;
  return true;
}

function string(): string | typeof OTHER {
  const a = pos + 1;
  let z = a;
  let h = 0;
  while (z < end) {
    const ch = buf[z]!;
    if (ch === QUOTE) break;
    if (ch === BACKSLASH || ch < 0x20 || ch >= 0x80) return OTHER;
    h = (Math.imul(h, 31) + ch) | 0;
    z++;
  }
  if (z >= end) return OTHER;
  pos = z + 1;
  if (z - a > INTERN_MAX) return buf.toString('latin1', a, z);
  const hit = interned.get(h);
  if (hit !== undefined && hit.length === z - a) {
    let same = true;
    for (let i = 0; i < hit.length; i++) {
      if (hit.charCodeAt(i) !== buf[a + i]) {
        same = false;
        break;
      }
    }
    if (same) return hit;
  }
  const str = buf.toString('latin1', a, z);
  if (interned.size >= INTERN_ENTRIES) interned.clear();
  interned.set(h, str);
  return str;
}

/** JSON's -?(0|[1-9][0-9]*)(.[0-9]+)? with at most 15 digits; an exponent or more digits: OTHER. */
function number(): number | typeof OTHER {
  let i = pos;
  const negative = buf[i] === MINUS;
  if (negative) i++;
  let m = 0;
  let digits = 0;
  let ch = buf[i];
  if (ch === undefined || ch < ZERO || ch > NINE) return OTHER;
  if (ch === ZERO) {
    i++;
    ch = buf[i];
    if (ch !== undefined && ch >= ZERO && ch <= NINE) return OTHER; // a leading zero is not JSON
  } else {
    while (ch !== undefined && ch >= ZERO && ch <= NINE) {
      m = m * 10 + (ch - ZERO);
      digits++;
      ch = buf[++i];
    }
  }
  let scale = 0;
  if (ch === DOT) {
    ch = buf[++i];
    if (ch === undefined || ch < ZERO || ch > NINE) return OTHER;
    while (ch !== undefined && ch >= ZERO && ch <= NINE) {
      m = m * 10 + (ch - ZERO);
      digits++;
      scale++;
      ch = buf[++i];
    }
  }
  if (digits > MAX_DIGITS || ch === 0x65 || ch === 0x45) return OTHER;
  pos = i;
  const x = scale === 0 ? m : m / POW10[scale]!;
  return negative ? -x : x;
}

function array(): number[] | typeof OTHER {
  pos++;
  const out: number[] = [];
  if (buf[pos] === CLOSE_ARRAY) {
    pos++;
    return out;
  }
  for (;;) {
    const ch = buf[pos];
    if (ch !== MINUS && (ch === undefined || ch < ZERO || ch > NINE)) return OTHER;
    const n = number();
    if (n === OTHER) return OTHER;
    out.push(n);
    if (buf[pos] === COMMA) {
      pos++;
      continue;
    }
    if (buf[pos] === CLOSE_ARRAY) {
      pos++;
      return out;
    }
    return OTHER;
  }
}
