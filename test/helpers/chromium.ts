// Headless Chromium (Debian's /usr/bin/chromium) driven over the DevTools protocol with the `ws` package:
// no Playwright or Puppeteer download. One browser, one page (tab); the page records what a person would
// notice going wrong (console errors, uncaught exceptions, failed loads) and every request it makes.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { backstop } from './backstop.js';

export const CHROMIUM =
  process.env.CHROMIUM_PATH ??
  ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p)) ??
  '/usr/bin/chromium';

type Handler = (params: Record<string, unknown>, sessionId: string | undefined) => void;

class Cdp {
  private id = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly handlers = new Map<string, Handler[]>();

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: Record<string, unknown>;
        sessionId?: string;
      };
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
      } else if (msg.method) {
        for (const h of this.handlers.get(msg.method) ?? []) h(msg.params ?? {}, msg.sessionId);
      }
    });
    ws.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('DevTools connection closed'));
      this.pending.clear();
    });
  }

  send<T = Record<string, unknown>>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = ++this.id;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(method: string, h: Handler): void {
    this.handlers.set(method, [...(this.handlers.get(method) ?? []), h]);
  }

  close(): void {
    this.ws.close();
  }
}

export interface Request {
  url: string;
  type: string;
  encodedBytes: number;
  finished: boolean;
}

export interface Page {
  /** Console errors, uncaught exceptions and failed loads, as text. */
  errors: string[];
  requests: Map<string, Request>;
  goto(url: string): Promise<void>;
  evaluate<T>(expression: string): Promise<T>;
  /** Polls `expression` until truthy; returns its value. */
  waitFor<T>(expression: string, timeoutMs?: number, what?: string): Promise<T>;
  screenshot(): Promise<Buffer>;
  setColorScheme(scheme: 'light' | 'dark'): Promise<void>;
}

export interface Browser {
  newPage(width?: number, height?: number): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'tc-chromium-'));
  const args = [
    '--headless=new',
    '--disable-gpu',
    '--remote-debugging-port=0',
    `--user-data-dir=${profile}`,
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    '--disable-default-apps',
    '--metrics-recording-only',
    '--mute-audio',
    '--hide-scrollbars',
    '--force-color-profile=srgb',
    'about:blank',
  ];
  // Root (CI, containers) cannot use Chromium's sandbox.
  if (process.getuid?.() === 0) args.unshift('--no-sandbox');
  const proc: ChildProcess = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start: ${err.slice(-2000)}`)), 30_000);
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`chromium exited (${code}): ${err.slice(-2000)}`));
    });
  });
  const ws = new WebSocket(endpoint, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const cdp = new Cdp(ws);
  const pages: Record<string, (method: string, params: Record<string, unknown>) => void> = {};
  for (const event of [
    'Runtime.consoleAPICalled',
    'Runtime.exceptionThrown',
    'Log.entryAdded',
    'Network.requestWillBeSent',
    'Network.loadingFinished',
    'Network.loadingFailed',
    'Network.responseReceived',
    'Page.loadEventFired',
  ]) {
    cdp.on(event, (params, sessionId) => {
      if (sessionId) pages[sessionId]?.(event, params);
    });
  }

  return {
    async newPage(width = 1280, height = 900) {
      const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', {
        url: 'about:blank',
      });
      const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', {
        targetId,
        flatten: true,
      });
      const send = <T = Record<string, unknown>>(m: string, p: object = {}) => cdp.send<T>(m, p, sessionId);
      const errors: string[] = [];
      const requests = new Map<string, Request>();
      let onLoad: (() => void) | null = null;
      pages[sessionId] = (method, p) => {
        if (method === 'Page.loadEventFired') onLoad?.();
        else if (method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) {
          const args = (p.args as { value?: unknown; description?: string }[]) ?? [];
          errors.push(`console.${p.type}: ${args.map((a) => a.value ?? a.description).join(' ')}`);
        } else if (method === 'Runtime.exceptionThrown') {
          const d = p.exceptionDetails as { text?: string; exception?: { description?: string } };
          errors.push(`uncaught: ${d.exception?.description ?? d.text}`);
        } else if (method === 'Log.entryAdded') {
          const e = p.entry as { level: string; text: string; url?: string };
          if (e.level === 'error') errors.push(`log: ${e.text} ${e.url ?? ''}`);
        } else if (method === 'Network.requestWillBeSent') {
          const r = p.request as { url: string };
          requests.set(String(p.requestId), {
            url: r.url,
            type: String(p.type ?? ''),
            encodedBytes: 0,
            finished: false,
          });
        } else if (method === 'Network.loadingFinished') {
          const r = requests.get(String(p.requestId));
          if (r) {
            r.encodedBytes = Number(p.encodedDataLength ?? 0);
            r.finished = true;
          }
        } else if (method === 'Network.loadingFailed') {
          const r = requests.get(String(p.requestId));
          // An EventSource or fetch cut by navigation/close is not the page's fault.
          if (p.canceled !== true) errors.push(`load failed: ${r?.url ?? '?'} ${String(p.errorText)}`);
        }
      };
      await send('Page.enable');
      await send('Runtime.enable');
      await send('Log.enable');
      await send('Network.enable');
      await send('Emulation.setDeviceMetricsOverride', {
        width,
        height,
        deviceScaleFactor: 1,
        mobile: false,
      });

      const evaluate = async <T>(expression: string): Promise<T> => {
        const r = await send<{
          result: { value?: unknown };
          exceptionDetails?: { text: string; exception?: { description?: string } };
        }>('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
        if (r.exceptionDetails) {
          throw new Error(
            `evaluate failed: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`,
          );
        }
        return r.result.value as T;
      };

      return {
        errors,
        requests,
        async goto(url) {
          const loaded = new Promise<void>((resolve) => {
            onLoad = resolve;
          });
          await send('Page.navigate', { url });
          await loaded;
        },
        evaluate,
        async waitFor<T>(expression: string, timeoutMs = 15_000, what = expression) {
          const until = Date.now() + backstop(timeoutMs);
          let last: unknown;
          for (;;) {
            last = await evaluate<unknown>(expression);
            if (last) return last as T;
            if (Date.now() > until) {
              throw new Error(
                `timed out after ${backstop(timeoutMs)} ms waiting for ${what} (last: ${JSON.stringify(last)}); errors: ${errors.join('; ')}`,
              );
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        },
        async screenshot() {
          const { data } = await send<{ data: string }>('Page.captureScreenshot', { format: 'png' });
          return Buffer.from(data, 'base64');
        },
        async setColorScheme(scheme) {
          await send('Emulation.setEmulatedMedia', {
            features: [{ name: 'prefers-color-scheme', value: scheme }],
          });
        },
      };
    },
    async close() {
      try {
        await cdp.send('Browser.close');
      } catch {
        // already gone
      }
      cdp.close();
      if (proc.exitCode === null) {
        await Promise.race([
          new Promise((r) => proc.once('exit', r)),
          new Promise((r) => setTimeout(r, 3_000)),
        ]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
