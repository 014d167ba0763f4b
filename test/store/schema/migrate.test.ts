// Two processes starting at once: both migrate, one applies, the other waits on the lock and finds it done.
import { afterAll, expect, it } from 'vitest';
import { createPool, endPool } from '../../../src/store/db/connection.js';
import { loadMigrations, migrate, migrationsApplied } from '../../../src/store/schema/migrate.js';
import { TEST_DATABASE_URL } from '../../helpers/pg.js';

const schema = `tc_migrate_${process.pid}`;
const root = createPool({ url: TEST_DATABASE_URL, max: 1 });
const pools = [0, 1, 2].map(() => createPool({ url: TEST_DATABASE_URL, searchPath: schema, max: 1 }));

afterAll(async () => {
  await root.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await Promise.allSettled([root, ...pools].map(endPool));
});

it('applies every migration exactly once when three processes migrate at once', async () => {
  await root.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const before = await migrationsApplied(pools[0]!);
  expect(before.upToDate).toBe(false);
  const results = await Promise.all(pools.map((p) => migrate(p)));
  const all = (await loadMigrations()).map((m) => m.name);
  expect(results.flat().sort()).toEqual(all.sort());
  const r = await root.query(`SELECT count(*)::int AS n FROM ${schema}.schema_migrations`);
  expect(r.rows[0].n).toBe(all.length);
  expect(await migrationsApplied(pools[1]!)).toEqual({ applied: all, pending: [], upToDate: true });
  const t = await root.query(`SELECT to_regclass('${schema}.candles_1s')::text AS t`);
  expect(t.rows[0].t).toBe(`${schema}.candles_1s`);
});
