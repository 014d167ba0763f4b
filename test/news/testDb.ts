// Each test file gets its own schema in the shared PostgreSQL, with the real migration applied.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDb {
  pool: pg.Pool;
  schema: string;
  drop(): Promise<void>;
}

export async function createTestDb(): Promise<TestDb> {
  const schema = `news_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3, options: `-c search_path=${schema}` });
  const sql = await readFile(new URL('../../migrations/0001_init.sql', import.meta.url), 'utf8');
  await pool.query(sql);
  return {
    pool,
    schema,
    async drop() {
      await pool.end();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}
