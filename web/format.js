// Time and number formatting for the page: New York time (the market's) and the viewer's own zone.
// @ts-check

export const NY = 'America/New_York';
export const LOCAL = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** @type {Map<string, Intl.DateTimeFormat>} */
const cache = new Map();

/**
 * @param {string} zone
 * @param {Intl.DateTimeFormatOptions} opts
 */
function fmt(zone, opts) {
  const key = zone + JSON.stringify(opts);
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', ...opts });
    cache.set(key, f);
  }
  return f;
}

/** 14:30:05 @param {number} ms @param {string} zone */
export const clock = (ms, zone) =>
  fmt(zone, { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ms);

/** 14:30 @param {number} ms @param {string} zone */
export const hm = (ms, zone) => fmt(zone, { hour: '2-digit', minute: '2-digit' }).format(ms);

/** Mon 1 Dec 14:30 @param {number} ms @param {string} zone */
export const dayTime = (ms, zone) =>
  fmt(zone, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(
    ms,
  );

/** 1 Dec @param {number} ms @param {string} zone */
export const day = (ms, zone) => fmt(zone, { day: 'numeric', month: 'short' }).format(ms);

/** 2026-12-01 (the zone's calendar date) @param {number} ms @param {string} zone */
export function isoDate(ms, zone) {
  const p = Object.fromEntries(
    fmt(zone, { year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(ms)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}`;
}

/** "in 2 h 5 min", "3 min ago" @param {number} ms */
export function relative(ms) {
  const past = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  let text;
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min`;
  else if (s < 86400 * 2) {
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    text = `${h} h ${Math.floor(s / 60)} min`;
  } else text = `${Math.floor(s / 86400)} days`;
  return past ? `${text} ago` : `in ${text}`;
}

/** A duration in ms as "1.2 s" / "3 min 5 s" @param {number} ms */
export function duration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** 12,345 / 1.2M @param {number | null | undefined} n */
export function count(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  return Math.round(n).toLocaleString('en-US');
}

/** A price with as many decimals as it needs (2–4) @param {number | null | undefined} p */
export function price(p) {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  return p.toFixed(Math.abs(p) < 1 ? 4 : 2);
}
