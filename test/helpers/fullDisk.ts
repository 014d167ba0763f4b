// A really full directory: a small tmpfs (needs root, as the private-cluster tests do) filled to the last
// byte, so writes fail with ENOSPC exactly as on a full volume. Fails (never skips) when it cannot mount.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FullDisk {
  dir: string;
  /** Deletes the filler: the directory has room again. */
  free(): void;
  /** Unmounts and removes the directory. */
  close(): void;
}

/** Mounts a `sizeKb` tmpfs, creates `subdirs` in it, then fills it until a write fails with ENOSPC. */
export function fullDisk(subdirs: string[] = [], sizeKb = 256): FullDisk {
  const dir = mkdtempSync(join(tmpdir(), 'tc-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot mount a tmpfs for the full-disk test (run as root): ${(err as Error).message}`);
  }
  for (const d of subdirs) mkdirSync(join(dir, d), { recursive: true });
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return {
    dir,
    free: () => rmSync(filler, { force: true }),
    close: () => {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
