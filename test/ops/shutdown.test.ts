// Signals and fatal errors against a real child process (the only way to see a real exit code).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { installShutdown } from '../../src/ops/shutdown.js';
import { captureLog } from '../helpers/logCapture.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/shutdownChild.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Child {
  proc: ChildProcess;
  /** Resolves when stdout has printed a line starting with `marker`. */
  waitFor(marker: string): Promise<void>;
  /** Exit code and the stdout lines: bare markers and the parsed JSON log lines. */
  exited: Promise<{ code: number | null; markers: string[]; logs: Array<Record<string, unknown>> }>;
}

function startChild(mode: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<{ marker: string; resolve: () => void }> = [];
  const lines = () => out.split('\n').filter((l) => l.length > 0);
  const check = () => {
    for (const w of [...waiters]) {
      if (lines().some((l) => l.startsWith(w.marker))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  proc.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
    check();
  });
  let err = '';
  proc.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = once(proc, 'exit').then(([code]) => {
    const all = lines();
    if (err) all.push(...err.split('\n').filter((l) => l.startsWith('{')));
    return {
      code: code as number | null,
      markers: all.filter((l) => !l.startsWith('{')),
      logs: all.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    };
  });
  return {
    proc,
    exited,
    waitFor: (marker) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ marker, resolve });
        check();
        exited.then((r) => reject(new Error(`child exited ${r.code} before ${marker}; stderr: ${err}`)));
      }),
  };
}

describe.concurrent('shutdown in a real process', () => {
  it('SIGTERM runs onShutdown to the end and exits 0', async () => {
    const c = startChild('clean');
    await c.waitFor('READY');
    c.proc.kill('SIGTERM');
    const r = await c.exited;
    expect(r.code).toBe(0);
    expect(r.markers).toEqual(['READY', 'SHUTDOWN_START SIGTERM', 'SHUTDOWN_DONE']);
    expect(r.logs.at(-1)).toMatchObject({
      msg: expect.stringMatching(/^shutdown complete in \d+ ms$/),
      code: 0,
    });
  });

  it('SIGINT takes the same path', async () => {
    const c = startChild('clean');
    await c.waitFor('READY');
    c.proc.kill('SIGINT');
    const r = await c.exited;
    expect(r.code).toBe(0);
    expect(r.markers).toContain('SHUTDOWN_DONE');
  });

  it('the same signal twice at once (Ctrl-C under npm/npx: terminal + wrapper) still drains to the end', async () => {
    const c = startChild('clean');
    await c.waitFor('READY');
    c.proc.kill('SIGINT');
    c.proc.kill('SIGINT');
    const r = await c.exited;
    expect(r.code).toBe(0);
    expect(r.markers).toContain('SHUTDOWN_DONE');
  });

  it('a second signal during a slow shutdown exits at once with 128+signal', async () => {
    const c = startChild('slow');
    await c.waitFor('READY');
    c.proc.kill('SIGTERM');
    await c.waitFor('SHUTDOWN_START');
    c.proc.kill('SIGINT');
    const r = await c.exited;
    expect(r.code).toBe(130);
    expect(r.markers).not.toContain('SHUTDOWN_DONE');
    expect(r.logs.at(-1)).toMatchObject({
      msg: 'second SIGINT during shutdown: exiting now',
      pending: ['stop feed'],
    });
  });

  it('an onShutdown past the deadline exits 1 and names what was pending', async () => {
    const c = startChild('hang');
    await c.waitFor('READY');
    c.proc.kill('SIGTERM');
    const r = await c.exited;
    expect(r.code).toBe(1);
    expect(r.markers).not.toContain('SHUTDOWN_DONE');
    expect(r.logs.at(-1)).toMatchObject({
      level: 'error',
      msg: 'shutdown timed out after 300 ms; pending: drain sink',
      pending: ['drain sink'],
    });
  });

  it('an onShutdown that fails exits 1 with the error logged', async () => {
    const c = startChild('fails');
    await c.waitFor('READY');
    c.proc.kill('SIGTERM');
    const r = await c.exited;
    expect(r.code).toBe(1);
    expect(r.logs.find((l) => l.msg === 'shutdown failed')).toMatchObject({
      err: { message: 'pool.end() failed' },
    });
  });

  it('an unhandled rejection is logged as fatal, drains, and exits non-zero', async () => {
    const c = startChild('reject');
    const r = await c.exited;
    expect(r.code).toBe(1);
    expect(r.markers).toEqual(['READY', 'SHUTDOWN_START unhandledRejection', 'SHUTDOWN_DONE']);
    const fatal = r.logs.find((l) => l.level === 'fatal');
    expect(fatal).toMatchObject({ kind: 'unhandledRejection', err: { message: 'boom: nobody awaited me' } });
  });

  it('an uncaught exception is logged as fatal, drains, and exits non-zero', async () => {
    const c = startChild('throw');
    const r = await c.exited;
    expect(r.code).toBe(1);
    expect(r.markers).toContain('SHUTDOWN_DONE');
    expect(r.logs.find((l) => l.level === 'fatal')).toMatchObject({
      kind: 'uncaughtException',
      err: { message: 'kaboom in a timer' },
    });
  });

  it('shutdown(reason, 1) from code (the watchdog) drains and exits 1', async () => {
    const c = startChild('programmatic');
    const r = await c.exited;
    expect(r.code).toBe(1);
    expect(r.markers).toEqual([
      'READY',
      'SHUTDOWN_START watchdog: no progress for 300000 ms',
      'SHUTDOWN_DONE',
    ]);
  });
});

describe('shutdown in-process (no signals, injected exit)', () => {
  it('joins concurrent calls, keeps the highest exit code, and exits once', async () => {
    const { log } = captureLog();
    const codes: number[] = [];
    let runs = 0;
    let release!: () => void;
    const s = installShutdown({
      log,
      timeoutMs: 5_000,
      signals: [],
      catchFatalErrors: false,
      exit: (c) => codes.push(c),
      onShutdown: () => {
        runs++;
        return new Promise<void>((r) => {
          release = r;
        });
      },
    });
    try {
      const first = s.shutdown('manual', 0);
      const second = s.shutdown('watchdog', 1);
      expect(s.shuttingDown).toBe(true);
      await Promise.resolve();
      release();
      await Promise.all([first, second]);
      expect(runs).toBe(1);
      expect(codes).toEqual([1]);
    } finally {
      s.uninstall();
    }
  });

  it('a synchronous throw in onShutdown still ends in exit(1)', async () => {
    const { log, lines: logged } = captureLog();
    const codes: number[] = [];
    const s = installShutdown({
      log,
      timeoutMs: 5_000,
      signals: [],
      catchFatalErrors: false,
      exit: (c) => codes.push(c),
      onShutdown: () => {
        throw new Error('sync oops');
      },
    });
    try {
      await s.shutdown('manual');
      expect(codes).toEqual([1]);
      expect(logged.find((l) => l.msg === 'shutdown failed')).toMatchObject({
        err: { message: 'sync oops' },
      });
    } finally {
      s.uninstall();
    }
  });
});

describe('a drain that reports a loss', () => {
  it('raiseExitCode: the shutdown completes, then exits with the raised code', async () => {
    const { log, lines } = captureLog();
    const codes: number[] = [];
    const s = installShutdown({
      log,
      timeoutMs: 5_000,
      signals: [],
      catchFatalErrors: false,
      exit: (c) => codes.push(c),
      onShutdown: async (_reason, { raiseExitCode }) => {
        raiseExitCode(1); // e.g. the sink's summary says rows were lost
        raiseExitCode(0); // can only raise
      },
    });
    try {
      await s.shutdown('SIGTERM', 0);
      expect(codes).toEqual([1]);
      expect(lines.find((l) => String(l.msg).startsWith('shutdown complete'))).toMatchObject({
        code: 1,
      });
    } finally {
      s.uninstall();
    }
  });
});
