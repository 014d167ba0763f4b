// `npm run bench [-- name…]`: runs every bench/*.bench.ts (or those whose file name contains a given name),
// each in its own child process, one after another, passing their output through. Children get --expose-gc so
// they can measure memory from a clean heap. Exits non-zero if any bench failed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

if (files.length === 0) {
  process.stderr.write(
    `bench: nothing matches ${only.join(', ') || '*.bench.ts'} in ${relative(root, here)}/\n`,
  );
  process.exit(1);
}

const failed: string[] = [];
for (const f of files) {
  process.stderr.write(`bench: ${f}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, f)], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) failed.push(`${f} (exit ${r.status ?? r.signal})`);
}
if (failed.length > 0) {
  process.stderr.write(`bench: failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
