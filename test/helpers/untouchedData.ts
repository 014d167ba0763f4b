// Global setup: the user's own ./data (local mode's database, spool and simulator tape) is never a test's
// to write. Its listing (names, sizes, modification times) before the run must equal the one after; a test
// that wrote there fails the run by name of what changed. Tests work in temporary directories
// (runCli starts the CLI in one).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(process.cwd(), 'data');

function listing(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out.set(p, `${s.size}:${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out;
}

export default function setup(): () => void {
  const before = listing(DIR);
  return () => {
    const after = listing(DIR);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
      (p) => before.get(p) !== after.get(p),
    );
    if (changed.length > 0) {
      // An error thrown here is printed but does not fail the run: set the exit code too.
      process.exitCode = 1;
      throw new Error(
        `tests wrote the user's ./data (they must use temporary directories): ${changed.slice(0, 10).join(', ')}`,
      );
    }
  };
}
