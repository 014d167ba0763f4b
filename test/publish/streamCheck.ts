// What the held-out check asks of the stream, computed independently of src/publish: per candle key, the
// latest revision's fields on the stream and the row in the database.
import type pg from 'pg';
import type { StoredMessage } from '../helpers/nats.js';

export interface Version {
  revision: number;
  trade_count: number;
  volume: number;
  close: number | null;
}

const pick = (p: Record<string, unknown>): Version => ({
  revision: Number(p.revision),
  trade_count: Number(p.trade_count),
  volume: Number(p.volume),
  close: p.close === null ? null : Number(p.close),
});

/** Candle messages only: key → the version with the highest revision. */
export function latestBy(msgs: readonly StoredMessage[]): Map<string, Version> {
  const out = new Map<string, Version>();
  for (const m of msgs) {
    const [, kind, token] = m.subject.split('.');
    if (m.subject.split('.')[0] !== 'candles') continue;
    const p = m.payload;
    const key = `${kind}:${token}:${kind === '100t' ? `${p.session_date}:${p.seq}` : p.bucket}`;
    const v = pick(p);
    const prev = out.get(key);
    if (!prev || v.revision > prev.revision) out.set(key, v);
  }
  return out;
}

/** Every candle row (of one symbol, or all), keyed as latestBy keys messages. */
export async function rowsAsMessages(db: pg.Pool, symbol?: string): Promise<Map<string, Version>> {
  const where = symbol ? 'WHERE symbol = $1' : '';
  const params = symbol ? [symbol] : [];
  const iso = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const r = await db.query<Version & { key: string }>(
    `SELECT '1s:' || replace(symbol, '.', '_') || ':' || ${iso('bucket')} AS key, revision, trade_count, volume, close
       FROM candles_1s ${where}
     UNION ALL
     SELECT '1m:' || replace(symbol, '.', '_') || ':' || ${iso('bucket')}, revision, trade_count, volume, close
       FROM candles_1m ${where}
     UNION ALL
     SELECT '100t:' || replace(symbol, '.', '_') || ':' || session_date::text || ':' || seq, revision, trade_count,
            volume, close
       FROM candles_100t ${where}`,
    params,
  );
  return new Map(r.rows.map(({ key, ...v }) => [key, pick(v as unknown as Record<string, unknown>)]));
}
