// Credentials never reach a log line: a password in a URL's userinfo and the value of a secret-looking
// query parameter are replaced, wherever the URL appears (a field, the message, an error's message/stack).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { redactUrl, redactUrlsIn } from '../../src/log/redact.js';

describe('redactUrl', () => {
  it.each([
    ['https://user:pass@host/feed', 'https://user:***@host/feed'],
    ['https://tok3n@host/feed', 'https://***@host/feed'],
    ['https://host/feed?key=abc123&format=rss', 'https://host/feed?key=***&format=rss'],
    [
      'https://host/f?api_token=x&apikey=y&access_token=z&sig=q&page=2',
      'https://host/f?api_token=***&apikey=***&access_token=***&sig=***&page=2',
    ],
    ['postgres://u:pw@db:5432/x?sslmode=require', 'postgres://u:***@db:5432/x?sslmode=require'],
    ['https://host/plain?q=apple', 'https://host/plain?q=apple'],
  ])('%s → %s', (raw, want) => {
    expect(redactUrl(raw)).toBe(want);
  });

  it('finds URLs in text, JSON included', () => {
    const line = JSON.stringify({
      msg: 'Request cannot be constructed from a URL that includes credentials: https://user:pass@host/feed',
      feed: 'https://host/f?key=SECRETKEY',
    });
    const out = redactUrlsIn(line);
    expect(out).not.toContain('pass@');
    expect(out).not.toContain('SECRETKEY');
    expect(JSON.parse(out)).toEqual({
      msg: 'Request cannot be constructed from a URL that includes credentials: https://user:***@host/feed',
      feed: 'https://host/f?key=***',
    });
  });
});

describe('the logger', () => {
  it('redacts every line it writes: fields, message and error', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += String(chunk);
        cb();
      },
    });
    const log = createLogger({ level: 'debug', destination: sink });
    const err = new TypeError(
      'Request cannot be constructed from a URL that includes credentials: https://user:hunter2@feeds.example/x',
    );
    log.warn(
      { err, feed: 'https://feeds.example/y?key=K3Y-VALUE' },
      'polling https://user:hunter2@feeds.example/x failed',
    );
    expect(out).toContain('user:***@feeds.example');
    expect(out).toContain('key=***');
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('K3Y-VALUE');
  });
});
