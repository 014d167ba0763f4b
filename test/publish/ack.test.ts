// The publisher reads JetStream's acknowledgements as bytes (readAck): stored, duplicate, or an error.
import { describe, expect, it } from 'vitest';
import { readAck } from '../../src/publish/publisher.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('readAck', () => {
  it('tells a stored message, a duplicate and an error apart, as JetStream writes them', () => {
    expect(readAck(bytes('{"stream":"CANDLES","seq":42}'), 0)).toBe('stored');
    expect(readAck(bytes('{"stream":"CANDLES","seq":42,"duplicate":true}'), 0)).toBe('duplicate');
    // nats-server 2.9 writes a space after the colon.
    expect(readAck(bytes('{"stream":"S0E", "seq":1,"duplicate": true}'), 0)).toBe('duplicate');
    expect(readAck(bytes('{"stream":"S0E", "seq":1,"duplicate": false}'), 0)).toBe('stored');
    expect(
      readAck(
        bytes(
          '{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"C"}',
        ),
        0,
      ),
    ).toEqual({ error: 'maximum messages exceeded' });
    // A stream named "error" is not an error: only the key is.
    expect(readAck(bytes('{"stream":"duplicate","seq":1}'), 0)).toBe('stored');
  });

  it('reads a status or an unreadable answer as a failure', () => {
    expect(readAck(new Uint8Array(0), 503)).toEqual({ error: 'no JetStream stream answers (503)' });
    expect(readAck(new Uint8Array(0), 408)).toEqual({ error: 'status 408' });
    expect(readAck(bytes('not json'), 0)).toEqual({ error: 'unreadable acknowledgement' });
    expect(readAck(bytes('{"error":'), 0)).toEqual({ error: 'unreadable acknowledgement' });
  });
});
