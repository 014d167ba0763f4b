// fetchFeed against a real local server: size cap, charsets, redirects, and no listener left behind.
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_AGENT, type FetchOptions, fetchFeed } from '../../src/news/fetchFeed.js';
import { FeedServer, plainXmlRoute, statusRoute } from './feedServer.js';

let server: FeedServer;
const ac = new AbortController();
const opts: FetchOptions = {
  validators: { etag: null, lastModified: null },
  timeoutMs: 2000,
  signal: ac.signal,
  userAgent: DEFAULT_USER_AGENT,
  maxBodyBytes: 1000,
  fetchImpl: fetch,
};

beforeAll(async () => {
  server = await new FeedServer().start();
  server.routes.set('/small', plainXmlRoute('<rss/>'));
  server.routes.set('/big', plainXmlRoute('x'.repeat(5000)));
  server.routes.set('/chunked-big', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/xml' });
    for (let i = 0; i < 10; i++) res.write('y'.repeat(200));
    res.end();
  });
  server.routes.set(
    '/latin1',
    plainXmlRoute(
      Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><t>Café</t>', 'latin1'),
      'text/xml',
    ),
  );
  server.routes.set('/moved', statusRoute(301, { Location: '/small' }));
});

afterAll(async () => {
  await server?.close();
});

describe('fetchFeed', () => {
  it('refuses bodies over the cap, declared or streamed', async () => {
    expect(await fetchFeed(server.url('/big'), opts)).toMatchObject({ kind: 'error', reason: 'too large' });
    expect(await fetchFeed(server.url('/chunked-big'), opts)).toMatchObject({
      kind: 'error',
      reason: 'too large',
    });
    expect(await fetchFeed(server.url('/small'), opts)).toMatchObject({ kind: 'ok', body: '<rss/>' });
  });

  it('decodes the charset the XML declaration names, and follows redirects', async () => {
    expect(await fetchFeed(server.url('/latin1'), opts)).toMatchObject({
      kind: 'ok',
      body: expect.stringContaining('Café'),
    });
    expect(await fetchFeed(server.url('/moved'), opts)).toMatchObject({ kind: 'ok', body: '<rss/>' });
  });

  it('classifies a bad URL as unusual, not as the remote failing', async () => {
    expect(await fetchFeed('not a url', opts)).toMatchObject({ kind: 'error', expected: false });
  });

  it('leaves no abort listener on the long-lived signal, however many polls', async () => {
    for (let i = 0; i < 30; i++) await fetchFeed(server.url(i % 2 ? '/small' : '/nope'), opts);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});
