// Feed dates in the wild, parsed (parseFeedDate).
// RFC 822 with odd zones ("EST", "CEST", none at all), ISO without a zone, day names that do not match the
// date, ordinals, epoch numbers. Parse what can be parsed, return null for the rest, never throw. A date
// without a zone is read as UTC, so the result never depends on the host's TZ.

// Offsets for the zone abbreviations feeds actually use; V8 knows only the US ones and UT/GMT.
const ZONES: Record<string, string> = {
  UT: '+0000',
  UTC: '+0000',
  GMT: '+0000',
  Z: '+0000',
  WET: '+0000',
  WEST: '+0100',
  BST: '+0100',
  CET: '+0100',
  CEST: '+0200',
  MET: '+0100',
  MEST: '+0200',
  EET: '+0200',
  EEST: '+0300',
  MSK: '+0300',
  IST: '+0530',
  SGT: '+0800',
  HKT: '+0800',
  JST: '+0900',
  KST: '+0900',
  AEST: '+1000',
  AEDT: '+1100',
  NZST: '+1200',
  NZDT: '+1300',
  EST: '-0500',
  EDT: '-0400',
  CST: '-0600',
  CDT: '-0500',
  MST: '-0700',
  MDT: '-0600',
  PST: '-0800',
  PDT: '-0700',
};

// Postgres takes years up to 294276, but anything outside this range in a news feed is a broken date.
const MIN_MS = Date.UTC(1970, 0, 1);
const MAX_MS = Date.UTC(2200, 0, 1);

export function parseFeedDate(raw: unknown): Date | null {
  if (typeof raw !== 'string') return null;
  const s = raw.replace(/\s+/g, ' ').trim();
  if (s === '' || s.length > 100) return null;
  const ms = parseMs(s);
  if (ms === null || !Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS) return null;
  return new Date(ms);
}

function parseMs(s: string): number | null {
  // Epoch seconds or milliseconds.
  if (/^\d{9,10}$/.test(s)) return Number(s) * 1000;
  if (/^\d{12,13}$/.test(s)) return Number(s);

  // ISO 8601 and its near misses ("2024-03-05 14:30:00", no zone, "+0100" without colon).
  const iso =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/i.exec(
      s,
    );
  if (iso) {
    const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone] = iso;
    const ms = frac === '' ? '' : `.${frac.slice(0, 3).padEnd(3, '0')}`;
    const z =
      !zone || /^(z|utc|gmt)$/i.test(zone)
        ? 'Z'
        : zone.length === 5
          ? `${zone.slice(0, 3)}:${zone.slice(3)}`
          : zone;
    return nanToNull(Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${ms}${z}`));
  }

  // RFC 822 family: drop the weekday (often wrong), ordinals and "at"; map the zone to an offset.
  let t = s
    .replace(/^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s*/i, '')
    .replace(/(\d+)(st|nd|rd|th)\b/gi, '$1')
    .replace(/\bat\b/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const zoneMatch = /\s(?:\(?([A-Za-z]{1,5})\)?)$/.exec(t);
  const abbr = zoneMatch?.[1]?.toUpperCase();
  if (zoneMatch && abbr !== undefined && abbr in ZONES) {
    t = `${t.slice(0, zoneMatch.index)} ${ZONES[abbr]}`;
  }
  // "GMT+0100" style: the sign follows the abbreviation directly.
  t = t.replace(/\b(?:GMT|UTC)([+-]\d{2}:?\d{2})$/i, ' $1');
  // No zone at all: UTC, not the host's local time (V8 also wants a time before an offset).
  if (!/[+-]\d{2}:?\d{2}$/.test(t)) t = /\d:\d\d/.test(t) ? `${t} +0000` : `${t} 00:00 +0000`;
  return nanToNull(Date.parse(t));
}

function nanToNull(n: number): number | null {
  return Number.isNaN(n) ? null : n;
}
