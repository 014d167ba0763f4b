// Runs the real `tick-collector` command (from the TypeScript sources through tsx) as a child process and
// reads its JSON log lines, so end-to-end tests see exactly what a user and the platform would.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface CliRun {
  proc: ChildProcess;
  /** Parsed JSON log lines (stdout), in order. */
  logs: Record<string, unknown>[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the first log line matching, rejects if the process exits first. */
  waitForLog(pred: (l: Record<string, unknown>) => boolean, what?: string): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const BASE_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LOG_FORMAT: 'json',
  // Never publish to a NATS server the machine happens to run (local mode would): tests ask for their own.
  NATS_URL: 'off',
};

const ROOT = process.cwd();
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/**
 * Runs the CLI. Unless `cwd` is given it works in a fresh temporary directory (removed when it exits), so a
 * test never reads the user's `.env` nor writes the user's `./data` (DATA_DIR's default is relative).
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): CliRun {
  const scratch = cwd === undefined ? mkdtempSync(join(tmpdir(), 'tc-cli-')) : null;
  const proc = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src', 'cli.ts'), ...args], {
    cwd: cwd ?? (scratch as string),
    env: { ...BASE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let pending = '';
  const logs: Record<string, unknown>[] = [];
  const waiters: {
    pred: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      logs.push(parsed);
      for (const w of [...waiters]) {
        if (w.pred(parsed)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = once(proc, 'exit').then(([code, signal]) => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return {
    proc,
    logs,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLog(pred, what = 'a log line') {
      const seen = logs.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        void exited.then((r) =>
          reject(
            new Error(
              `exited (${r.code ?? r.signal}) before ${what}; stderr: ${err}; stdout tail: ${out.slice(-2000)}`,
            ),
          ),
        );
      });
    },
  };
}

/** Runs a command to completion. */
export async function runCliToEnd(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  const run = runCli(args, env, cwd);
  const r = await run.exited;
  return { ...r, stdout: run.stdout(), stderr: run.stderr(), logs: run.logs };
}
