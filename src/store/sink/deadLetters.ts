// Dead letters (writeDeadLetter): rows the database rejected for a reason retrying cannot fix.
// Rows the database rejected for a reason retrying cannot fix (SQLSTATE classes 22/23/42 …) are set aside
// in dead_letters, or in a JSONL file under <dataDir>/dead-letters/ when even that insert fails, so a bad
// row never blocks the rows behind it and is never retried in a loop.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';

export interface DeadLetterResult {
  /** 'table' or the file written. */
  where: string;
}

export async function writeDeadLetter(
  pool: pg.Pool,
  dataDir: string,
  kind: string,
  error: string,
  rows: readonly unknown[],
): Promise<DeadLetterResult> {
  const json = JSON.stringify(rows, jsonSafe);
  try {
    await pool.query('INSERT INTO dead_letters (kind, error, rows) VALUES ($1, $2, $3::jsonb)', [
      kind,
      error,
      json,
    ]);
    return { where: 'table dead_letters' };
  } catch (tableErr) {
    const dir = join(dataDir, 'dead-letters');
    const file = join(dir, `${kind}.jsonl`);
    await mkdir(dir, { recursive: true });
    const line = JSON.stringify({
      at: new Date().toISOString(),
      kind,
      error,
      tableError: String(tableErr),
      rows,
    });
    await appendFile(file, `${line}\n`);
    return { where: file };
  }
}

/** jsonb has no NaN/Infinity: keep them readable as strings rather than losing the row. */
function jsonSafe(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
}
