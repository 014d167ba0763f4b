// The WEB_TOKEN gate (tokenGate): bearer header or cookie, the platform's probes left open.
// WEB_TOKEN: the page, its API, /health and /metrics only for whoever holds the token (a service with a
// public domain is otherwise readable by anyone). The platform's probes (/healthz, /readyz) stay open.
// A browser opens `/?token=…` once: the answer sets a cookie holding the token's hash (HttpOnly,
// SameSite=Strict) and redirects to the same address without the token, so it is not kept in the history
// or sent on as a referrer; the page's own requests and its event stream then carry the cookie. Scripts
// and Prometheus send `Authorization: Bearer …`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const OPEN_PATHS = new Set(['/healthz', '/readyz']);
const COOKIE = 'tc_token';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Answers the request (401, or the redirect that sets the cookie) and returns true, or returns false to let it through. */
export type TokenGate = (req: IncomingMessage, res: ServerResponse) => boolean;

export function tokenGate(token: string): TokenGate {
  const want = digest(token);
  const cookieValue = want.toString('hex');
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://collector');
    if (OPEN_PATHS.has(url.pathname)) return false;
    const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (auth && same(digest(auth[1]!), want)) return false;
    const cookie = /(?:^|;\s*)tc_token=([0-9a-f]{64})(?:;|$)/.exec(req.headers.cookie ?? '');
    if (cookie && same(Buffer.from(cookie[1]!, 'hex'), want)) return false;
    const given = url.searchParams.get('token');
    if (given !== null && same(digest(given), want)) {
      url.searchParams.delete('token');
      const secure = String(req.headers['x-forwarded-proto'] ?? '').startsWith('https') ? '; Secure' : '';
      res.writeHead(303, {
        Location: `${url.pathname}${url.search}`,
        'Set-Cookie': `${COOKIE}=${cookieValue}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000${secure}`,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        'Content-Length': '0',
      });
      res.end();
      return true;
    }
    const body = Buffer.from(
      'This collector needs its token (WEB_TOKEN): open /?token=YOUR_TOKEN once in this browser, or send ' +
        '"Authorization: Bearer YOUR_TOKEN".\n',
      'utf8',
    );
    res.writeHead(401, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(body.length),
      'WWW-Authenticate': 'Bearer realm="tick-collector"',
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
