// Value parsers for settings.
// Each returns the parsed value or throws a ParseProblem whose message completes the sentence
// "<NAME> <message>", so the start-up error names the variable and the fix.
import { redactUrl } from '../log/redact.js';

export class ParseProblem extends Error {}

export type Parser<T> = (raw: string) => T;

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  return (raw) => {
    const s = raw.trim().replace(/_/g, '');
    if (!/^-?\d+$/.test(s)) throw new ParseProblem(`must be a whole number, got "${raw}"`);
    const n = Number(s);
    if (n < min || n > max) throw new ParseProblem(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export const boolean: Parser<boolean> = (raw) => {
  const s = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  throw new ParseProblem(`must be true or false, got "${raw}"`);
};

export function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    const s = raw.trim().toLowerCase();
    if ((values as readonly string[]).includes(s)) return s as T;
    throw new ParseProblem(`must be one of ${values.join(', ')}, got "${raw}"`);
  };
}

export const text: Parser<string> = (raw) => raw.trim();

/** A comma list of ticker symbols: upper-cased, de-duplicated, each validated. */
export const symbolList: Parser<string[]> = (raw) => {
  const items = raw
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new ParseProblem('must list at least one symbol, e.g. AAPL,MSFT');
  for (const s of items) {
    if (!/^[A-Z0-9][A-Z0-9.\-/^=]{0,19}$/.test(s)) throw new ParseProblem(`has an invalid symbol "${s}"`);
  }
  return [...new Set(items)];
};

/** A URL with one of the given protocols. */
export function url(protocols: readonly string[]): Parser<string> {
  return (raw) => {
    const s = raw.trim();
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new ParseProblem(`is not a valid URL: "${redactUrl(s)}"`);
    }
    if (!protocols.includes(u.protocol)) {
      throw new ParseProblem(
        `must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${u.protocol}//…"`,
      );
    }
    if (!u.hostname) throw new ParseProblem('has no host');
    return s;
  };
}

export function urlList(protocols: readonly string[]): Parser<string[]> {
  const one = url(protocols);
  return (raw) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map(one);
}

/** The password (and any secret-looking query parameter) replaced by "***", for logs and diagnostics. */
export { redactUrl };

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration with its unit (`7d`, `12h`, `90m`, `3600s`) in milliseconds; NaN when it is not one. */
export function durationToMs(raw: string): number {
  const m = /^\s*(\d+)\s*([smhd])\s*$/i.exec(raw);
  return m ? Number(m[1]) * DURATION_UNITS[m[2]!.toLowerCase()]! : Number.NaN;
}

/** A duration with its unit, kept as written (`7d`); read it with durationToMs. */
export function duration(minMs: number, maxMs: number): Parser<string> {
  return (raw) => {
    const ms = durationToMs(raw);
    if (Number.isNaN(ms)) {
      throw new ParseProblem(`must be a number with a unit (s, m, h, d), e.g. 7d or 12h, got "${raw}"`);
    }
    if (ms < minMs || ms > maxMs) {
      throw new ParseProblem(`must be between ${minMs / 1_000}s and ${maxMs / 86_400_000}d, got "${raw}"`);
    }
    return raw.trim().toLowerCase().replace(/\s+/g, '');
  };
}

/** `off`, or a comma list of NATS server URLs (nats:// or tls://). */
export const natsUrl: Parser<string> = (raw) => {
  const s = raw.trim();
  if (s.toLowerCase() === 'off') return 'off';
  const parts = s.split(',').map((p) => p.trim());
  for (const p of parts) url(['nats:', 'tls:'])(p);
  return parts.join(',');
};

/** A JetStream stream name: letters, digits, '-' and '_'. */
export const streamName: Parser<string> = (raw) => {
  const s = raw.trim();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(s))
    throw new ParseProblem(`must be 1–64 letters, digits, - or _, got "${raw}"`);
  return s;
};
