// The byte parser of the hot path must answer exactly as parseMessage does on the frame decoded as UTF-8,
// for every input: the documented frame, every number form, and many thousands of generated and mutated
// frames (a seeded generator: the same cases every run). Also: symbols are interned (one string each).
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/feed/parse.js';
import { parseFrame } from '../../src/feed/parseFrame.js';

const NOW = 1_725_198_451_500;
const T = 1_725_198_451_165;

// Bytes around a frame in the socket's chunk (the next frame's header, or anything): a parse must not
// read them as part of the frame, however much they look like its continuation.
const AROUND = ['', '0', '9}', '}', '"', ',"p":1}', '5]}', '\x81\x7e', 'e5}', 'rue}'];
let around = 0;

function same(text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  const want = parseMessage(text, 3, NOW);
  const got = parseFrame(bytes, 3, NOW);
  // toEqual compares numbers with Object.is: -0 and 0 differ, NaN equals NaN.
  expect(got, text).toEqual(want);
  const before = AROUND[around++ % AROUND.length]!;
  const after = AROUND[around++ % AROUND.length]!;
  const inChunk = Buffer.concat([Buffer.from(before, 'latin1'), bytes, Buffer.from(after, 'latin1')]);
  const at = Buffer.byteLength(before, 'latin1');
  expect(parseFrame(inChunk, 3, NOW, at, at + bytes.length), `${before}|${text}|${after}`).toEqual(want);
}

let seed = 12_345;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

const NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '227.31',
  '0.0001',
  '0.000001',
  '10000000',
  '10000000.5',
  '100.10',
  '1e3',
  '1E-2',
  '1.5e2',
  '01',
  '-01',
  '1.',
  '.5',
  '+1',
  '-',
  '123456789012345',
  '1234567890123456',
  '0.1234567890123456789',
  '9007199254740993',
  '1725198451165',
  '1725198451165.5',
  '17251984511650',
  '946684800000',
  '946684799999',
  '99999999999.999',
  '0.30000000000000004',
  '3.14159265358979',
  '-227.31',
  '1e400',
  '00',
  '0.0',
  '-0.0',
];
const STRINGS = [
  '"AAPL"',
  '"BRK.B"',
  '""',
  '"a\\"b"',
  '"\\u0041"',
  '"é"',
  '"open"',
  '"227.31"',
  '"1e3"',
  '" 5"',
  '"\u0007"',
  '"tab\\t"',
  '"x"',
  '"true"',
  '"closed"',
  '"extended-hours"',
];
const OTHERS = [
  'true',
  'false',
  'null',
  '[]',
  '[12]',
  '[12,37]',
  '[12, 37]',
  '["12"]',
  '[1e2]',
  '[-1,0.5]',
  '{}',
  '{"a":1}',
  '[[1]]',
  'tru',
  'nul',
  '[12,]',
  '[,12]',
  'falsey',
];
const VALUES = [...NUMBERS, ...STRINGS, ...OTHERS];
const KEYS = [
  's',
  'p',
  'v',
  't',
  'c',
  'dp',
  'ms',
  'x',
  'status',
  'status_code',
  'message',
  '',
  '__proto__',
  'S',
  'pp',
  'd',
];

function generated(): string {
  const fields: [string, string][] = [
    ['s', pick(['"AAPL"', '"MSFT"', '"BRK.B"', '"T"', pick(STRINGS)])],
    ['p', random() < 0.7 ? pick(['227.31', '0.5', '100', '1234.5678']) : pick(VALUES)],
    ['v', random() < 0.7 ? pick(['100', '1', '0', '250.5']) : pick(VALUES)],
    ['c', random() < 0.7 ? pick(['[12,37]', '[]', '[14]']) : pick(VALUES)],
    ['dp', pick(['false', 'true', '"true"', '1', '0', 'null'])],
    ['ms', pick(['"open"', '"closed"', '"extended-hours"', 'null', '5'])],
    ['t', random() < 0.7 ? String(T - Math.floor(random() * 1000)) : pick(VALUES)],
  ];
  const kept = fields.filter(() => random() < 0.93);
  if (random() < 0.2) kept.push([pick(KEYS), pick(VALUES)]);
  if (random() < 0.1) kept.push([pick(KEYS), pick(VALUES)]);
  for (let i = kept.length - 1; i > 0 && random() < 0.3; i--) {
    const j = Math.floor(random() * (i + 1));
    [kept[i], kept[j]] = [kept[j]!, kept[i]!];
  }
  let text = `{${kept.map(([k, v]) => `"${k}":${v}`).join(',')}}`;
  if (random() < 0.05) text = text.replace(',', ', ');
  if (random() < 0.03) text = ` ${text}`;
  if (random() < 0.03) text = `${text}\n`;
  return text;
}

function mutated(text: string): string {
  const b = Buffer.from(text, 'utf8');
  const i = Math.floor(random() * b.length);
  const r = random();
  if (r < 0.4) b[i] = Math.floor(random() * 128);
  else if (r < 0.6) return b.subarray(0, i).toString('latin1');
  else if (r < 0.8)
    return text.slice(0, i) + pick(['"', ',', ':', '}', '{', '[', ']', '-', '.', 'e', '0']) + text.slice(i);
  else b[i] = 0x80 + Math.floor(random() * 128);
  return b.toString('latin1');
}

describe('parseFrame: the same answer as parseMessage', () => {
  it('parses the documented trade frame without the general path', () => {
    const text = JSON.stringify({ s: 'AAPL', p: 227.31, v: 100, c: [12, 37], dp: false, ms: 'open', t: T });
    same(text);
    expect(parseFrame(Buffer.from(text), 1, NOW)).toMatchObject({ kind: 'trade', trade: { price: 227.31 } });
  });

  it.each(VALUES)('the value %s in every field', (v) => {
    for (const k of ['p', 'v', 't', 'c', 's', 'dp', 'ms']) {
      const o: Record<string, string> = { s: '"AAPL"', p: '227.31', v: '100', c: '[12]', t: String(T) };
      o[k] = v;
      same(
        `{${Object.entries(o)
          .map(([a, b]) => `"${a}":${b}`)
          .join(',')}}`,
      );
    }
  });

  it('status frames, empty and odd objects', () => {
    for (const text of [
      '{"status_code":200,"message":"Authorized"}',
      '{"status":403,"message":"x"}',
      '{}',
      '[]',
      '"s"',
      '5',
      'null',
      '',
      '{',
      '{"s"}',
      '{"s":"A"',
      '{"s":"A",}',
      '{"s":"A"}}',
      '{"s":"A","s":"B","p":1,"v":1,"t":' + T + '}',
    ])
      same(text);
  });

  it('every price with up to 4 decimals and 8 digits parses to the same double as JSON.parse', () => {
    for (let i = 0; i < 20_000; i++) {
      const cents = Math.floor(random() * 100_000_000);
      const p = (cents / 10_000).toFixed(Math.floor(random() * 5));
      same(`{"s":"X","p":${p},"v":1,"t":${T}}`);
    }
  });

  it('30,000 generated frames and 30,000 mutations of them', () => {
    for (let i = 0; i < 30_000; i++) {
      const text = generated();
      same(text);
      same(mutated(text));
    }
  });

  it('a symbol is one string however many trades name it', () => {
    const a = parseFrame(Buffer.from(`{"s":"NVDA","p":1,"v":1,"t":${T}}`), 1, NOW);
    const b = parseFrame(Buffer.from(`{"s":"NVDA","p":2,"v":1,"t":${T}}`), 2, NOW);
    const c = parseFrame(Buffer.from(`{"s":"NVDB","p":2,"v":1,"t":${T}}`), 3, NOW);
    if (a.kind !== 'trade' || b.kind !== 'trade' || c.kind !== 'trade') throw new Error('not trades');
    expect(b.trade.symbol).toBe(a.trade.symbol);
    expect(c.trade.symbol).toBe('NVDB');
  });
});
