// How `export` writes rows (rowWriter): CSV, JSONL or Parquet.
// CSV (a header of the column names), JSONL (one object per row, the same names) or Parquet (typed columns,
// row groups of ROW_GROUP rows written as they fill: memory stays bounded whatever the range). Times are
// ISO-8601 UTC in text, TIMESTAMP(MILLIS, UTC) in Parquet; a 100-tick candle's session_date is YYYY-MM-DD in
// text, DATE in Parquet.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import type { Column, Row } from './exportReads.js';

export const FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type Format = (typeof FORMATS)[number];

/** Rows per Parquet row group: big enough for readers to skip by statistics, small enough to hold. */
export const ROW_GROUP = 50_000;

export interface RowWriter {
  write(rows: Row[]): Promise<void>;
  end(): Promise<void>;
}

function text(v: Row[string], type: Column['type']): string {
  if (v === null) return '';
  if (v instanceof Date) return type === 'date' ? v.toISOString().slice(0, 10) : v.toISOString();
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function json(v: Row[string], type: Column['type']): string | number | null {
  if (v instanceof Date) return type === 'date' ? v.toISOString().slice(0, 10) : v.toISOString();
  return v;
}

async function textWriter(
  out: Writable,
  columns: readonly Column[],
  format: 'csv' | 'jsonl',
  close: () => Promise<void>,
): Promise<RowWriter> {
  const put = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  if (format === 'csv') await put(`${columns.map((c) => c.name).join(',')}\n`);
  const line =
    format === 'csv'
      ? (r: Row) => columns.map((c) => text(r[c.name] ?? null, c.type)).join(',')
      : (r: Row) =>
          JSON.stringify(Object.fromEntries(columns.map((c) => [c.name, json(r[c.name] ?? null, c.type)])));
  return {
    write: async (rows) => {
      if (rows.length > 0) await put(`${rows.map(line).join('\n')}\n`);
    },
    end: close,
  };
}

const PARQUET_TYPES: Record<Column['type'], Record<string, unknown>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  time: {
    type: 'INT64',
    converted_type: 'TIMESTAMP_MILLIS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
  },
  date: { type: 'INT32', converted_type: 'DATE' },
  double: { type: 'DOUBLE' },
  int: { type: 'INT32' },
};

function parquetWriter(path: string, columns: readonly Column[]): RowWriter {
  const schema = [
    { name: 'root', num_children: columns.length },
    ...columns.map((c) => ({
      name: c.name,
      ...PARQUET_TYPES[c.type],
      repetition_type: c.nullable ? 'OPTIONAL' : 'REQUIRED',
    })),
  ];
  const w = new ParquetWriter({
    writer: fileWriter(path),
    schema: schema as ConstructorParameters<typeof ParquetWriter>[0]['schema'],
    createdBy: 'tick-collector export',
  });
  let held: Row[] = [];
  const flush = async () => {
    if (held.length === 0) return;
    const rows = held;
    held = [];
    await w.write({
      columnData: columns.map((c) => ({ name: c.name, data: rows.map((r) => r[c.name] ?? null) })),
      rowGroupSize: ROW_GROUP,
    });
  };
  return {
    write: async (rows) => {
      for (const r of rows) held.push(r);
      if (held.length >= ROW_GROUP) await flush();
    },
    end: async () => {
      await flush();
      w.finish();
    },
  };
}

/** A writer for `format` to `path`, or stdout when null (text formats only). */
export async function rowWriter(
  format: Format,
  columns: readonly Column[],
  path: string | null,
): Promise<RowWriter> {
  if (format === 'parquet') return parquetWriter(path as string, columns);
  if (path === null) return textWriter(process.stdout, columns, format, async () => undefined);
  const file = createWriteStream(path);
  await once(file, 'open');
  return textWriter(file, columns, format, async () => {
    file.end();
    await once(file, 'finish');
  });
}
