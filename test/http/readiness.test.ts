import { describe, expect, it } from 'vitest';
import { runReadyChecks } from '../../src/http/readiness.js';

describe('runReadyChecks', () => {
  it('is ready only when every check passes, and reports each one', async () => {
    const ok = await runReadyChecks({
      database: () => ({ ok: true }),
      migrations: async () => ({ ok: true }),
    });
    expect(ok).toEqual({ ready: true, checks: { database: { ok: true }, migrations: { ok: true } } });
    const notOk = await runReadyChecks({
      database: () => ({ ok: true }),
      feed: () => ({ ok: false, detail: 'not subscribed' }),
    });
    expect(notOk.ready).toBe(false);
    expect(notOk.checks.feed).toEqual({ ok: false, detail: 'not subscribed' });
  });

  it('counts a throw (sync or async) and a hang as failures, without waiting for the hang', async () => {
    const r = await runReadyChecks(
      {
        sync: () => {
          throw new Error('no pool');
        },
        async: async () => {
          throw new Error('ECONNREFUSED');
        },
        hang: () => new Promise(() => {}),
      },
      30,
    );
    expect(r).toEqual({
      ready: false,
      checks: {
        sync: { ok: false, detail: 'no pool' },
        async: { ok: false, detail: 'ECONNREFUSED' },
        hang: { ok: false, detail: 'timed out after 30 ms' },
      },
    });
  });

  it('an empty set of checks is ready', async () => {
    expect(await runReadyChecks({})).toEqual({ ready: true, checks: {} });
  });
});
