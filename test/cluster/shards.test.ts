// Shards and the fenced statement, without a database: the cut every replica must agree on.
import { describe, expect, it } from 'vitest';
import { fenced } from '../../src/cluster/fence.js';
import { cutShards, fairShare, shardKey } from '../../src/cluster/shards.js';

describe('cutShards', () => {
  it('cuts SYMBOLS in order into connection chunks; one shard is the whole feed', () => {
    const s = cutShards(['A', 'B', 'C', 'A', 'D', 'E'], 2, 'public');
    expect(s.map((x) => x.symbols)).toEqual([['A', 'B'], ['C', 'D'], ['E']]);
    expect(s.map((x) => x.gapSymbol)).toEqual(['A,B', 'C,D', 'E']);
    expect(cutShards(['A', 'B'], 10, 'public')[0]!.gapSymbol).toBe('*');
  });

  it('keys: 31 bits, stable, different per schema and per symbol set', () => {
    const k = shardKey('public', ['A', 'B']);
    expect(k).toBe(shardKey('public', ['A', 'B']));
    expect(k).toBeGreaterThanOrEqual(0);
    expect(k).toBeLessThan(2 ** 31);
    expect(shardKey('tc_test_1', ['A', 'B'])).not.toBe(k);
    expect(shardKey('public', ['A', 'C'])).not.toBe(k);
  });

  it('fair share is ceil(shards / live)', () => {
    expect([fairShare(12, 1), fairShare(12, 3), fairShare(4, 3), fairShare(4, 0)]).toEqual([12, 4, 2, 4]);
  });
});

describe('fenced', () => {
  it('adds the fence parameter and filter to an unnest upsert, and refuses anything else', () => {
    const sql =
      'INSERT INTO t AS c (symbol)\nSELECT s FROM unnest($1::text[]) AS u(s, x)\nON CONFLICT (symbol) DO NOTHING';
    const f = fenced(sql, 1);
    expect(f).toMatch(/^WITH fenced AS MATERIALIZED/);
    expect(f).toContain('l.pid <> $2::int4');
    expect(f).toContain('WHERE u.s NOT IN (SELECT symbol FROM fenced)\nON CONFLICT');
    expect(() => fenced('UPDATE t SET x = 1', 0)).toThrow(/not an unnest upsert/);
  });
});
