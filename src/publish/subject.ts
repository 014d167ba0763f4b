// NATS subjects and message ids of the candle stream (docs/ARCHITECTURE.md, "Publishing").
//
// A subject token may not hold '.', '*', '>' or whitespace, so a symbol is mapped to a token reversibly:
//   '.' → '_'  (BRK.B → BRK_B: the common case stays readable),
//   '_', '%', '*', '>', whitespace and other control characters → '%XX' (hex of the UTF-8 byte).
// Every other character is kept. symbolOfToken(tokenOfSymbol(s)) === s for every string.

export type CandleKind = '1s' | '100t' | '1m';
export const CANDLE_KINDS: readonly CandleKind[] = ['1s', '100t', '1m'];

const ESCAPE = /[_%*>\s\x00-\x1f\x7f]/g;

export function tokenOfSymbol(symbol: string): string {
  return symbol
    .replace(ESCAPE, (ch) =>
      [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
    )
    .replace(/\./g, '_');
}

export function symbolOfToken(token: string): string {
  const dotted = token.replace(/_/g, '.');
  if (!dotted.includes('%')) return dotted;
  // Escapes are whole UTF-8 bytes: decode runs of them together.
  return dotted.replace(/(?:%[0-9A-F]{2})+/g, (run) =>
    Buffer.from(
      run
        .slice(1)
        .split('%')
        .map((h) => Number.parseInt(h, 16)),
    ).toString('utf8'),
  );
}

export const candleSubject = (kind: CandleKind, symbol: string): string =>
  `candles.${kind}.${tokenOfSymbol(symbol)}`;

export const gapSubject = (symbol: string): string => `gaps.${tokenOfSymbol(symbol)}`;

/** The subjects the stream captures. */
export const STREAM_SUBJECTS = ['candles.>', 'gaps.>'];

/**
 * `Nats-Msg-Id`: `<kind>:<symbol>:<bucket or session_date:seq>:<revision>` (bucket as ISO-8601 UTC), so a
 * retry, a catch-up or two replicas around a handover store a version once.
 */
export function candleMsgId(kind: CandleKind, symbol: string, key: string, revision: number): string {
  return `${kind}:${symbol}:${key}:${revision}`;
}

/** A gap row's message for one of its symbols: `gap:<row id>:<symbol>:<revision>`. */
export const gapMsgId = (id: string, symbol: string, revision: number): string =>
  `gap:${id}:${symbol}:${revision}`;

/** What a subject names: `{ kind, symbol }` for a candle, `{ kind: 'gap', symbol }` for a gap, else null. */
export function parseSubject(subject: string): { kind: CandleKind | 'gap'; symbol: string } | null {
  const parts = subject.split('.');
  if (parts[0] === 'candles' && parts.length === 3 && CANDLE_KINDS.includes(parts[1] as CandleKind))
    return { kind: parts[1] as CandleKind, symbol: symbolOfToken(parts[2]!) };
  if (parts[0] === 'gaps' && parts.length === 2) return { kind: 'gap', symbol: symbolOfToken(parts[1]!) };
  return null;
}
