// Feeds with credentials: a URL with userinfo is fetched (with an Authorization header: fetch refuses such
// a URL) and stored; a key in the query string works as given; and neither secret appears in any log line.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgTestDb, type TestDb } from '../helpers/pg.js';
import { FeedServer } from './feedServer.js';
import { rssFeed } from './fixtures.js';
import { startPoller } from './harness.js';

const PASSWORD = 's3cret-Pa55';
const KEY = 'TOPSECRETKEY123';
let db: TestDb;
let pool: pg.Pool;
let server: FeedServer;

beforeAll(async () => {
  db = await pgTestDb('news_secrets');
  pool = db.pool({ max: 2 });
  server = await new FeedServer().start();
  const want = `Basic ${Buffer.from(`reader:${PASSWORD}`).toString('base64')}`;
  server.routes.set('/private.rss', (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.authorization !== want) return void res.writeHead(401).end('who are you');
    res.writeHead(200, { 'Content-Type': 'application/rss+xml' }).end(rssFeed());
  });
  server.routes.set(`/keyed.rss?key=${KEY}&format=rss`, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/rss+xml' }).end(rssFeed());
  });
  // A keyed feed that fails: its failure is logged (by label), never with the key.
  server.routes.set(`/gone.rss?key=${KEY}`, (_req, res) => void res.writeHead(500).end());
});

afterAll(async () => {
  await server?.close();
  await db?.close();
});

describe('feeds with credentials', () => {
  it('fetches with an Authorization header, stores the items, and logs no secret', async () => {
    const base = new URL(server.url('/'));
    const privateUrl = `http://reader:${PASSWORD}@${base.host}/private.rss`;
    const keyed = server.url(`/keyed.rss?key=${KEY}&format=rss`);
    const gone = server.url(`/gone.rss?key=${KEY}`);
    const p = startPoller({ feeds: [privateUrl, keyed, gone], db: pool });
    const events = await p.events.take(3);
    await p.stop();

    const byUrl = new Map(events.map((e) => [e.url, e]));
    expect(byUrl.get(privateUrl)?.outcome).toBe('ok');
    expect(byUrl.get(keyed)?.outcome).toBe('ok');
    expect(byUrl.get(gone)?.outcome).toBe('failed');
    const sent = server.requestsTo('/private.rss');
    expect(sent.length).toBeGreaterThan(0);
    expect(sent[0]!.headers.authorization).toMatch(/^Basic /);
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM news_items');
    expect(rows[0]!.n).toBeGreaterThan(0);

    expect(p.lines.length).toBeGreaterThan(0);
    const all = JSON.stringify(p.lines);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(KEY);
  });
});
