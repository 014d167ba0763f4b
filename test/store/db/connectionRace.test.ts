// Backends terminated right after they connect must never surface as an uncaught 'error' event (which
// would crash the daemon). The FATAL message can arrive in the same TCP read as ReadyForQuery: a client
// handed over by a promise (a microtask later) has no 'error' listener at that moment. Before the fix
// this storm produced ~50 uncaught exceptions a second.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, endPool, withClient } from '../../../src/store/db/connection.js';
import { pgTestDb, TEST_DATABASE_URL, type TestDb } from '../../helpers/pg.js';

let db: TestDb;
beforeAll(async () => {
  db = await pgTestDb('connrace');
});
afterAll(async () => {
  await db?.close();
});

describe('checkout vs pg_terminate_backend', () => {
  it('never leaves a client without an error listener (pool.query and withClient)', async () => {
    const app = `${db.schema}_storm`;
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    // No sslmode in the URL: 'prefer', so the TLS fallback wrapper is on the path too.
    const pool = createPool({ url: TEST_DATABASE_URL, max: 4, applicationName: app, idleTimeoutMs: 1 });
    let stop = false;
    let ok = 0;
    const killer = (async () => {
      while (!stop)
        await db.admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
          [app],
        );
    })();
    const until = Date.now() + 2_000;
    try {
      await Promise.all(
        [0, 1, 2, 3].map(async (w) => {
          while (Date.now() < until) {
            try {
              if (w % 2) await pool.query('SELECT 1');
              else await withClient(pool, (c) => c.query('SELECT 1'));
              ok++;
            } catch {
              // terminated mid-query: expected, the caller sees a (retryable) error
            }
          }
        }),
      );
    } finally {
      stop = true;
      await killer;
      await endPool(pool);
      process.off('uncaughtException', onUncaught);
    }
    expect(ok).toBeGreaterThan(0);
    expect(uncaught).toEqual([]);
  }, 15_000);
});
