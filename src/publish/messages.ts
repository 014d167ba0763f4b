// Outbox rows to NATS messages: subject, Nats-Msg-Id and JSON payload.
// From an outbox row to the messages that carry it: the subject, the Nats-Msg-Id and the JSON payload (the
// row's columns under the database's names, times ISO-8601 UTC, plus `revision` and `source`).
//   candle:   candles.<kind>.<SYMBOL>, the row.
//   deletion: candles.<kind>.<SYMBOL>, the key, `revision` and `deleted: true` (a backfill removed it).
//   gap:      gaps.<SYMBOL>, one message per symbol the gap covers, with `symbol` that symbol, `gap_symbol`
//             the row's own key, and `state`: 'closed' (the feed was not receiving from started_at to
//             ended_at) or 'filled' (the backfill rebuilt it: filled_at); 'open' messages come from the feed
//             as a gap begins (openGap below), before any row exists.
import type { OutboxRow } from './outbox.js';
import { type CandleKind, candleMsgId, candleSubject, gapMsgId, gapSubject } from './subject.js';

export interface OutMessage {
  subject: string;
  msgId: string;
  /** The symbol it is about (which shard publishes it). */
  symbol: string;
  /** The JSON payload. */
  data: string;
}

export function messagesOf(o: OutboxRow): OutMessage[] {
  const r = o.row;
  if (o.source === 'gap') return gapMessages(r);
  if (o.source === 'tombstone') {
    const kind = r.kind as CandleKind;
    const symbol = String(r.symbol);
    const payload: Record<string, unknown> =
      kind === '100t' ? { symbol, session_date: r.session_date, seq: r.seq } : { symbol, bucket: r.bucket };
    payload.revision = r.revision;
    payload.deleted = true;
    const key = kind === '100t' ? `${r.session_date}:${r.seq}` : String(r.bucket);
    return [
      {
        subject: candleSubject(kind, symbol),
        msgId: candleMsgId(kind, symbol, key, Number(r.revision)),
        symbol,
        data: JSON.stringify(payload),
      },
    ];
  }
  // A candle: the server built its payload (outbox.ts); its key and revision name it.
  const symbol = String(r.symbol);
  return [
    {
      subject: candleSubject(o.source, symbol),
      msgId: candleMsgId(o.source, symbol, String(r.key), Number(r.revision)),
      symbol,
      data: o.json!,
    },
  ];
}

function gapMessages(r: Record<string, unknown>): OutMessage[] {
  const listed = Array.isArray(r.symbols) ? (r.symbols as string[]) : [];
  const symbols = listed.length > 0 ? listed : String(r.symbol).split(',');
  const state = r.filled_at ? 'filled' : 'closed';
  const { symbol: gapSymbol, symbols: _all, ...rest } = r;
  return symbols.map((symbol) => ({
    subject: gapSubject(symbol),
    msgId: gapMsgId(String(r.id), symbol, Number(r.revision)),
    symbol,
    data: JSON.stringify({ symbol, gap_symbol: gapSymbol, state, ...rest }),
  }));
}

/**
 * A gap as it opens (the feed stopped receiving): published at once, from the feed's own state, since no
 * row exists until the gap closes. Its id names the connection and the instant, so replicas and retries
 * agree.
 */
export function openGapMessages(symbols: readonly string[], startedAt: number, reason: string): OutMessage[] {
  const started = new Date(startedAt).toISOString();
  return symbols.map((symbol) => ({
    subject: gapSubject(symbol),
    msgId: `gap-open:${symbol}:${started}`,
    symbol,
    data: JSON.stringify({ symbol, state: 'open', started_at: started, ended_at: null, reason }),
  }));
}
