// The page's files, read once at start-up and kept in memory with their gzip and an ETag.
// The page is a few files (HTML, CSS, JS modules, the charting library), so serving them never touches the
// disk and a request path can only name a file on this list.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | null;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Where the page's sources live: `web/` at the package root (the same from src/ under tsx and dist/). */
export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** The standalone ES module build of lightweight-charts (its one dependency bundled in). */
export function chartLibraryPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('lightweight-charts/package.json');
  return join(dirname(pkg), 'dist', 'lightweight-charts.standalone.production.mjs');
}

function asset(path: string, body: Buffer): Asset {
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  const gz = body.length > 512 ? gzipSync(body, { level: 9 }) : null;
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { type, body, gzip: gz && gz.length < body.length ? gz : null, etag };
}

/**
 * CSP hashes of the <style> elements the library inserts (its attribution logo's, a fixed string): the
 * page's style-src allows exactly these and no other inline style.
 */
export function libraryStyleHashes(lib = readFileSync(chartLibraryPath(), 'utf8')): string[] {
  const out: string[] = [];
  for (const m of lib.matchAll(/\.innerText="([^"\\]*)"/g)) {
    const css = m[1]!;
    if (!css.includes('{')) continue;
    out.push(`'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`);
  }
  return out;
}

/** URL path → asset. `/` is index.html; the library is served as /vendor/lightweight-charts.mjs. */
export function loadAssets(dir = WEB_DIR): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const ext = extname(name);
    if (!(ext in TYPES)) continue;
    const a = asset(name, readFileSync(join(dir, name)));
    out.set(`/${name}`, a);
    if (name === 'index.html') out.set('/', a);
  }
  out.set('/vendor/lightweight-charts.mjs', asset('x.mjs', readFileSync(chartLibraryPath())));
  return out;
}
