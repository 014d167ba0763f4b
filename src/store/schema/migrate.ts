// Numbered migrations (migrations/NNNN_name.sql): loading, applying and checking them.
// Each applied in its own transaction and recorded in schema_migrations, under a transaction-scoped advisory
// lock so two processes starting at once are safe (the second waits, then sees the first one's rows).
// Modelled on graphile-worker's src/migrate.ts.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { withClient } from '../db/connection.js';

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** The top-level migrations/ folder: found by walking up from this module (works from src/ and dist/). */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'migrations');
    if (existsSync(join(candidate, '0001_init.sql'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`migrations/ not found above ${fileURLToPath(import.meta.url)}`);
}

export async function loadMigrations(dir = migrationsDir()): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  const out: Migration[] = [];
  for (const f of files) {
    const id = Number(f.slice(0, 4));
    if (out.some((m) => m.id === id)) throw new Error(`two migrations numbered ${id} in ${dir}`);
    out.push({ id, name: f.replace(/\.sql$/, ''), sql: await readFile(join(dir, f), 'utf8') });
  }
  return out;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
// One lock per schema, so test files in separate schemas do not wait for each other.
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('tick-collector.migrate:' || current_schema()))`;

/** Applies the pending migrations in order; returns the names applied now (empty when up to date). */
export async function migrate(pool: pg.Pool, dir?: string): Promise<string[]> {
  const migrations = await loadMigrations(dir);
  const applied: string[] = [];
  await withClient(pool, async (client) => {
    for (const m of migrations) {
      await client.query('BEGIN');
      try {
        await client.query(LOCK);
        await client.query(CREATE_TABLE);
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE id = $1', [m.id]);
        if (done.rowCount === 0) {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
          applied.push(m.name);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw Object.assign(err as Error, { migration: m.name });
      }
    }
  });
  return applied;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  upToDate: boolean;
}

/** For /readyz and `tick-collector status`: which migrations the database has and which it lacks. */
export async function migrationsApplied(pool: pg.Pool, dir?: string): Promise<MigrationStatus> {
  const migrations = await loadMigrations(dir);
  const exists = await pool.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  const ids = new Set<number>();
  if (exists.rows[0]?.t) {
    const r = await pool.query<{ id: number }>('SELECT id FROM schema_migrations');
    for (const row of r.rows) ids.add(row.id);
  }
  const applied = migrations.filter((m) => ids.has(m.id)).map((m) => m.name);
  const pending = migrations.filter((m) => !ids.has(m.id)).map((m) => m.name);
  return { applied, pending, upToDate: pending.length === 0 };
}
