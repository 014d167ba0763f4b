// Error classification, sslmode planning and the redacted target: pure functions.
import { describe, expect, it } from 'vitest';
import { describeTarget } from '../../../src/store/db/connection.js';
import { classifyError, StoreError, StoreErrorCode } from '../../../src/store/db/errors.js';
import { planTls } from '../../../src/store/db/sslMode.js';
import { RowQueue } from '../../../src/store/sink/rowQueue.js';
import { dedupeCandles, key1s } from '../../../src/store/write/writeCandles.js';
import { sec } from '../candles.js';

describe('classifyError', () => {
  const pgErr = (code: string) => Object.assign(new Error('x'), { code });
  it.each([
    '08006',
    '08007',
    '57P01',
    '57P02',
    '57P03',
    '53300',
    '40001',
    '40P01',
    '57014',
    '25006', // read-only after a failover
    '53100', // disk full
    '53200', // out of memory
  ])('retries SQLSTATE %s', (c) => {
    expect(classifyError(pgErr(c))).toBe('retry');
  });
  it.each(['23505', '23514', '22P02', '42P01', '42703', '21000', 'XX000'])('rejects SQLSTATE %s', (c) => {
    expect(classifyError(pgErr(c))).toBe('reject');
  });
  it.each([
    'ECONNRESET',
    'ECONNREFUSED',
    'EPIPE',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'EAI_AGAIN',
    'ENOTFOUND',
  ])('retries node code %s', (c) => expect(classifyError(pgErr(c))).toBe('retry'));
  it.each([
    'Connection terminated unexpectedly',
    'timeout exceeded when trying to connect',
    'Query read timeout',
    'SSL connection has been closed unexpectedly',
  ])('retries "%s"', (m) => expect(classifyError(new Error(m))).toBe('retry'));
  it("recognises the store's own errors by code, not message", () => {
    expect(classifyError(new StoreError(StoreErrorCode.COPY_TIMEOUT, 'took too long'))).toBe('retry');
    expect(classifyError(new StoreError(StoreErrorCode.BAD_ROW, 'connection terminated'))).toBe('reject');
    expect(new StoreError(StoreErrorCode.COPY_TIMEOUT, 'x').code).toBe('TC_COPY_TIMEOUT');
  });
  it('rejects unknown shapes and a pool used after end', () => {
    expect(classifyError(new Error('boom'))).toBe('reject');
    expect(classifyError('str')).toBe('reject');
    expect(classifyError(new Error('Cannot use a pool after calling end on the pool'))).toBe('reject');
  });
});

describe('planTls (libpq sslmode)', () => {
  const base = 'postgres://u:p@db.example:5432/app';
  it('strips ssl parameters from the URL and keeps the others', () => {
    const p = planTls({ url: `${base}?sslmode=require&application_name=x&sslcert=` });
    expect(p.url).toBe(`${base}?application_name=x`);
    expect(p.first).toEqual({ rejectUnauthorized: false });
    expect(p.fallback).toBeUndefined();
  });
  it('defaults to PGSSLMODE, else prefer (TLS first, plain fallback)', () => {
    expect(planTls({ url: base, defaultSslMode: 'disable' })).toMatchObject({
      mode: 'disable',
      first: false,
    });
    expect(planTls({ url: base })).toMatchObject({
      mode: 'prefer',
      first: { rejectUnauthorized: false },
      fallback: false,
    });
    expect(planTls({ url: `${base}?sslmode=allow` })).toMatchObject({
      first: false,
      fallback: { rejectUnauthorized: false },
    });
  });
  it('verify-full checks the host; verify-ca does not', () => {
    const full = planTls({ url: `${base}?sslmode=verify-full` }).first as {
      servername?: string;
      checkServerIdentity?: unknown;
    };
    expect(full.servername).toBe('db.example');
    expect(full.checkServerIdentity).toBeUndefined();
    const ca = planTls({ url: `${base}?sslmode=verify-ca` }).first as { checkServerIdentity?: () => unknown };
    expect(ca.checkServerIdentity?.()).toBeUndefined();
  });
  it('refuses an unknown sslmode', () => {
    expect(() => planTls({ url: `${base}?sslmode=on` })).toThrow(/sslmode=on/);
  });
});

describe('describeTarget', () => {
  it('redacts the password and names the sslmode', () => {
    expect(describeTarget('postgresql://user:s3cret@host.rlwy.net:40123/railway?sslmode=require')).toBe(
      'postgresql://user:***@host.rlwy.net:40123/railway (sslmode=require)',
    );
    expect(describeTarget('postgres://postgres@127.0.0.1/postgres', 'disable')).toBe(
      'postgres://postgres@127.0.0.1:5432/postgres (sslmode=disable)',
    );
    expect(describeTarget('not a url')).not.toContain('not a url');
  });
});

describe('batch helpers', () => {
  it('keeps the fullest, then newest, version of a key', () => {
    const rows = [sec('A', 0, 2, 1), sec('B', 0), sec('A', 0, 5, 2), sec('A', 0, 3, 3), sec('A', 0, 5, 4)];
    expect(dedupeCandles(rows, key1s).map((c) => [c.symbol, c.tradeCount, c.open])).toEqual([
      ['A', 5, 4],
      ['B', 3, 100],
    ]);
  });
  it('RowQueue takes from the front in order, across its compaction', () => {
    const q = new RowQueue<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    const a = q.take(3000);
    expect(a[0]).toBe(0);
    expect(q.length).toBe(2000);
    expect(q.take(3)).toEqual([3000, 3001, 3002]);
    expect(q.length).toBe(1997);
  });
});
