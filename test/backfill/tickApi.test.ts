// The tick API client against a real HTTP server on loopback: paging, each failure code, the limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetExhausted, RequestLimits } from '../../src/backfill/limits.js';
import { TickApi, TickApiError } from '../../src/backfill/tickApi.js';
import { instantClock, makeTape, startTapeServer, type TapeServer } from './tapeServer.js';

const T0 = Date.UTC(2026, 2, 2, 15, 0, 0);
const tape = makeTape(['AAPL'], T0, 3000, 20, ['@   ', '@ TI', '   I']); // 60 s, 50 prints/s

describe('tick API client', () => {
  let srv: TapeServer;
  beforeAll(async () => {
    srv = await startTapeServer(tape);
  });
  afterAll(() => srv.close());

  function api(over: Partial<ConstructorParameters<typeof TickApi>[0]> = {}) {
    const clock = instantClock(T0 + 86_400_000);
    const limits = new RequestLimits(clock, 900, 100_000);
    return {
      clock,
      limits,
      api: new TickApi({ baseUrl: srv.url, token: 'sekret', clock, limits, random: () => 1, ...over }),
    };
  }

  it('pages a full window by splitting it, deduplicating the shared boundary second', async () => {
    srv.requests.length = 0;
    const { api: a } = api({ pageRows: 400 });
    const got = await a.fetchRange('AAPL', T0, T0 + 59_999);
    expect(got.map((t) => t.seq)).toEqual(tape.AAPL!.map((t) => t.seq));
    expect(srv.requests.length).toBeGreaterThan(8); // 3,000 prints at 400 a page
    expect(srv.requests.every((u) => u.searchParams.get('limit') === '400')).toBe(true);
  });

  it('keeps `to` inclusive and cuts to the millisecond range asked', async () => {
    const { api: a } = api();
    const got = await a.fetchRange('AAPL', T0 + 1_000, T0 + 1_999);
    expect(got.length).toBe(50);
    expect(got.every((t) => t.ts >= T0 + 1_000 && t.ts <= T0 + 1_999)).toBe(true);
  });

  it('halves the window on 5xx (a span too large)', async () => {
    srv.requests.length = 0;
    srv.maxSpanSeconds = 10;
    try {
      const { api: a } = api();
      const got = await a.fetchRange('AAPL', T0, T0 + 59_999);
      expect(got.length).toBe(3000);
      const spans = srv.requests.map(
        (u) => Number(u.searchParams.get('to')) - Number(u.searchParams.get('from')) + 1,
      );
      expect(spans.slice(0, 3)).toEqual([60, 30, 15]); // each 500 halved the window
      expect(spans.filter((n) => n <= 10).length).toBe(spans.filter((n) => n > 10).length + 1);
    } finally {
      srv.maxSpanSeconds = Number.POSITIVE_INFINITY;
    }
  });

  it('waits Retry-After on 429, then goes on', async () => {
    srv.script.push({ status: 429, headers: { 'retry-after': '7' } });
    const { api: a, clock } = api();
    const got = await a.fetchRange('AAPL', T0, T0 + 999);
    expect(got.length).toBe(50);
    expect(clock.slept).toContain(7_000);
  });

  it('retries a one-second window on 500 with backoff, and gives up after maxAttempts', async () => {
    srv.script.push({ status: 503 });
    const { api: a, clock } = api();
    expect((await a.fetchRange('AAPL', T0, T0 + 999)).length).toBe(50);
    expect(clock.slept.length).toBe(1);
    srv.always = 500;
    try {
      const { api: b } = api({ maxAttempts: 3 });
      await expect(b.fetchRange('AAPL', T0, T0 + 999)).rejects.toMatchObject({ code: 'FAILED', status: 500 });
    } finally {
      srv.always = null;
    }
  });

  it('reads 404 as not loaded yet, 402/403 as denied, and never puts the token in a message', async () => {
    for (const [status, code] of [
      [404, 'NOT_LOADED'],
      [402, 'DENIED'],
      [403, 'DENIED'],
    ] as const) {
      srv.script.push({ status });
      const { api: a } = api();
      const err = await a.fetchRange('AAPL', T0, T0 + 999).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TickApiError);
      expect((err as TickApiError).code).toBe(code);
      expect((err as Error).message).not.toContain('sekret');
    }
  });

  it('stays under the per-minute limit and stops at the daily budget', async () => {
    const clock = instantClock(T0);
    const limits = new RequestLimits(clock, 3, 5);
    for (let i = 0; i < 5; i++) await limits.take();
    expect(clock.slept.length).toBe(1); // the 4th waited for the minute to roll
    expect(clock.slept[0]).toBe(60_000);
    await expect(limits.take()).rejects.toBeInstanceOf(BudgetExhausted);
  });
});
