// Shards: SYMBOLS cut into the connection chunks of MAX_SYMBOLS_PER_CONNECTION, and their lock keys.
// In SYMBOLS order, so every replica with the same settings cuts the same shards. A shard's lock key hashes
// the schema and its symbols: test schemas (and two deployments on one server) never collide.

/** The advisory-lock class (first key of pg_try_advisory_lock(int4, int4)) of every shard lock: "tc". */
export const SHARD_LOCK_CLASS = 0x7463;

export interface Shard {
  index: number;
  /** Second key of the advisory lock: 31 bits, so pg_locks.objid (an oid) reads it back unchanged. */
  key: number;
  symbols: string[];
  /** The feed_gaps symbol of this shard ('*' when it is the whole feed, as the feed writes today). */
  gapSymbol: string;
}

export function cutShards(symbols: readonly string[], perConnection: number, schema: string): Shard[] {
  const unique = [...new Set(symbols)];
  const per = Math.max(1, perConnection);
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += per) chunks.push(unique.slice(i, i + per));
  return chunks.map((c, index) => ({
    index,
    key: shardKey(schema, c),
    symbols: c,
    gapSymbol: chunks.length === 1 ? '*' : c.join(','),
  }));
}

/** The layout of a collector's shards: which symbols, cut how, in which schema (a 31-bit FNV-1a, hex). */
export function layoutOf(schema: string, symbols: readonly string[], perConnection: number): string {
  return shardKey(`${schema}\u0000layout`, [...symbols, String(perConnection)]).toString(16);
}

/** FNV-1a over `schema \0 sym1,sym2,…`, folded to 31 bits. */
export function shardKey(schema: string, symbols: readonly string[]): number {
  const s = `${schema}\u0000${symbols.join(',')}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}

/** Fair share: each live collector holds about ceil(shards / live). */
export function fairShare(shards: number, live: number): number {
  return Math.ceil(shards / Math.max(1, live));
}
