// The page: the collector's state at a glance, the chart of one symbol (live over server-sent events,
// older candles loaded on scrolling back), and the day's gaps and events. Everything comes from the
// collector that serves this file: /api/meta, /api/candles, /api/gaps and the /api/stream events. The bar
// kinds (1m … 1d) are not streamed: the 1-second candles streaming in for the symbol tell the page to read
// its newest bars again (at most every BAR_REFRESH_MS).
// @ts-check
import { candleMs, isBarKind } from './candles.js';
import { renderCards } from './cards.js';
import { CandleChart } from './chart.js';
import { $, h } from './dom.js';
import { clock, count, duration, isoDate, LOCAL, NY, price, relative } from './format.js';

/** @typedef {import('./candles.js').Candle} Candle */
/** @typedef {import('./candles.js').Gap} Gap */
/** @typedef {import('./candles.js').Kind} Kind */

/** @param {string} path */
async function getJson(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${(await r.text()).slice(0, 200)}`);
  return r.json();
}

const page = {
  /** @type {{ symbols: string[], kinds: Kind[], mode: string, candleIntervalMs: number, tickCandleSize: number, marketHoursIgnored?: boolean }} */
  meta: { symbols: [], kinds: ['1s', '100t'], mode: '', candleIntervalMs: 1000, tickCandleSize: 100 },
  symbol: '',
  /** @type {Kind} */
  kind: '1s',
  zone: NY,
  /** @type {CandleChart | null} */
  chart: null,
  /** @type {EventSource | null} */
  stream: null,
  /** Bumped on every symbol/kind switch: answers for an older selection are dropped. */
  generation: 0,
  loadingOlder: false,
  noOlder: false,
  /** @type {Gap[]} */
  gaps: [],
  gapsToday: -1,
  /** The ledger's derivations so far (null: unknown); a change re-reads the gaps. */
  derivations: null,
  /** @type {{ at: number, trades: number } | null} */
  lastTrades: null,
  tradesPerS: /** @type {number | null} */ (null),
  lastFeedState: '',
  lastConnections: /** @type {string[]} */ ([]),
  /** @type {{ at: number, text: string, cls: string }[]} */
  events: [],
  /** @type {any} */
  state: null,
  firstChartMs: /** @type {number | null} */ (null),
  streamOpen: false,
  /** When the stream last failed (null while it is open or was never opened). */
  streamErrorAt: /** @type {number | null} */ (null),
  /** When the last state came (the stream sends one every second). */
  lastStateAt: 0,
  /** The collector answers; false from STREAM_LOST_MS after the stream failed, or STATE_STALE_MS without a state. */
  reachable: true,
  /** The last moment the collector was heard from, once it is unreachable. */
  lostSince: /** @type {number | null} */ (null),
  /** The collector's HTTP port answers but it is still opening its database. */
  starting: false,
  /** Today's gaps (New York date, every symbol): the one list the Today card counts and the list shows. */
  todayGaps: /** @type {Gap[] | null} */ (null),
  todayGapsMore: false,
  todayGapsAt: 0,
  vwap: false,
};

/** A failed stream that has not come back within this is a lost collector. */
const STREAM_LOST_MS = 500;
/** No state for this long (one comes every second) is a lost collector too (a link that went silent). */
const STATE_STALE_MS = 2_500;
/** Today's gaps are read again at least this often (and whenever the feed's gap count moves). */
const GAPS_REFRESH_MS = 10_000;
/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- the chart -------------------------------------------------------------------------------------

/** Candles per read (initial and each step back); `?limit=` changes it within the API's bounds. */
let CANDLES = 1000;
/** A bar chart reads its newest bars again at most this often while 1-second candles stream in. */
const BAR_REFRESH_MS = 2_000;

async function selectSeries() {
  const gen = ++page.generation;
  const { symbol, kind } = page;
  const url = new URL(location.href);
  url.searchParams.set('symbol', symbol);
  url.searchParams.set('kind', kind);
  history.replaceState(null, '', url);
  for (const b of document.querySelectorAll('#kinds button')) {
    b.setAttribute('aria-pressed', String(b.getAttribute('data-kind') === kind));
  }
  /** @type {HTMLSelectElement} */ ($('symbol')).value = symbol;

  page.stream?.close();
  page.chart?.destroy();
  page.noOlder = false;
  page.loadingOlder = false;
  const chart = new CandleChart($('chart'), {
    kind,
    zone: page.zone,
    onNearStart: () => void loadOlder(gen),
    vwap: page.vwap,
  });
  axisLabels();
  page.chart = chart;
  chart.onHover((c) => legend(c ?? chart.lastCandle()));

  // The stream opens first and holds what arrives until the first read is in, so nothing falls between.
  /** @type {Candle[] | null} */
  let held = [];
  openStream(gen, (batch) => {
    if (isBarKind(kind)) return refreshBars(gen);
    if (held) held.push(...batch);
    else chart.upsert(batch);
    legend(chart.lastCandle());
  });
  const r = await getJson(`/api/candles?symbol=${encodeURIComponent(symbol)}&kind=${kind}&limit=${CANDLES}`);
  if (gen !== page.generation) return;
  page.noOlder = !r.more;
  chart.setCandles(r.candles);
  const early = held;
  held = null;
  if (early.length > 0) chart.upsert(early);
  await loadGaps(gen);
  legend(chart.lastCandle());
  status();
}

/** Today's gaps, every symbol: the Today card's count and the list beside the chart. */
async function loadTodayGaps() {
  page.todayGapsAt = Date.now();
  try {
    const r = await getJson('/api/gaps');
    page.todayGaps = r.gaps;
    page.todayGapsMore = r.more;
    renderGaps();
    if (page.state) renderCards(page.state, cardContext());
  } catch (err) {
    problem(`gaps: ${err instanceof Error ? err.message : err}`);
  }
}

function cardContext() {
  return {
    tradesPerS: page.tradesPerS,
    mode: page.meta.mode,
    marketHoursIgnored: page.meta.marketHoursIgnored === true,
    gapsToday: page.todayGaps === null ? null : page.todayGaps.length,
    gapsTodayMore: page.todayGapsMore,
  };
}

/** The axes' names: price and volume on the right, the time zone under the time axis. */
function axisLabels() {
  const zone = page.zone === NY ? `New York time (${NY})` : `your time (${LOCAL})`;
  const what =
    page.kind === '100t'
      ? `one candle per ${page.meta.tickCandleSize} trades, at its last trade's time`
      : `${kindLabel(page.kind)} candles`;
  $('axis-time').textContent = `Time: ${zone} · ${what}`;
}

/** Older candles when the view nears the first loaded one. @param {number} gen */
async function loadOlder(gen) {
  const chart = page.chart;
  if (!chart || page.loadingOlder || page.noOlder || gen !== page.generation) return;
  const first = chart.firstMs();
  if (first === null) return;
  page.loadingOlder = true;
  try {
    const r = await getJson(
      `/api/candles?symbol=${encodeURIComponent(page.symbol)}&kind=${page.kind}&to=${first}&limit=${CANDLES}`,
    );
    if (gen !== page.generation) return;
    page.noOlder = !r.more;
    if (r.candles.length > 0) {
      chart.prepend(r.candles);
      await loadGaps(gen);
    }
  } catch (err) {
    problem(`older candles: ${err instanceof Error ? err.message : err}`);
  } finally {
    page.loadingOlder = false;
  }
}

/** The gaps over the loaded window (and today's for the list). @param {number} gen */
async function loadGaps(gen) {
  const chart = page.chart;
  if (!chart) return;
  const now = Date.now();
  const first = chart.firstMs() ?? now - 3_600_000;
  // Bounded by the API to 31 days; the chart rarely holds more than a day of 1-second candles.
  const from = Math.max(first, now - 30 * 86_400_000);
  try {
    const r = await getJson(
      `/api/gaps?symbol=${encodeURIComponent(page.symbol)}&from=${from}&to=${now + 60_000}`,
    );
    if (gen !== page.generation) return;
    page.gaps = r.gaps;
    chart.setGaps(r.gaps);
    renderGaps();
  } catch (err) {
    problem(`gaps: ${err instanceof Error ? err.message : err}`);
  }
}

/**
 * @param {number} gen
 * @param {(batch: Candle[]) => void} onCandles
 * @param {boolean} [again] opened again after a refusal: read what was written meanwhile once it opens
 */
function openStream(gen, onCandles, again = false) {
  // A bar chart listens to the symbol's 1-second candles (and the state, as every chart does).
  const streamKind = isBarKind(page.kind) ? '1s' : page.kind;
  const es = new EventSource(`/api/stream?symbol=${encodeURIComponent(page.symbol)}&kind=${streamKind}`);
  page.stream = es;
  let opened = again;
  es.addEventListener('open', () => {
    page.streamOpen = true;
    page.streamErrorAt = null;
    // A reconnect: read what was written while the stream was down.
    if (opened) catchUp(gen).catch(problem);
    opened = true;
    status();
  });
  es.addEventListener('error', () => {
    page.streamOpen = false;
    page.streamErrorAt ??= Date.now();
    status();
    // A refused stream (the collector restarting answers 503 until it is up) is not retried by the
    // browser: open it again, and meanwhile ask for the state so "starting" shows.
    if (es.readyState === EventSource.CLOSED && gen === page.generation) {
      setTimeout(() => {
        if (gen !== page.generation || page.stream !== es) return;
        getJson('/api/state')
          .then(onState)
          .catch(() => undefined);
        openStream(gen, onCandles, true);
      }, 2_000);
    }
  });
  es.addEventListener('candles', (e) => {
    if (gen !== page.generation) return;
    onCandles(JSON.parse(/** @type {MessageEvent} */ (e).data));
    pulse();
  });
  es.addEventListener('resync', () => catchUp(gen).catch(problem));
  es.addEventListener('state', (e) => onState(JSON.parse(/** @type {MessageEvent} */ (e).data)));
}

let barTimer = 0;
/**
 * New 1-second candles arrived: read the newest bars a moment later (the sink writes the second and its
 * minute then). One read per BAR_REFRESH_MS however many candles come, and one after the last of them.
 * @param {number} gen
 */
function refreshBars(gen) {
  if (barTimer) return;
  barTimer = window.setTimeout(() => {
    barTimer = 0;
    if (gen === page.generation) catchUp(gen).catch(problem);
  }, BAR_REFRESH_MS);
}

/** Everything since the last candle shown (for a bar kind: the last bar again and any after it). @param {number} gen */
async function catchUp(gen) {
  const chart = page.chart;
  if (!chart) return;
  const last = chart.lastCandle();
  if (!last && !isBarKind(page.kind)) return;
  const from = last ? `&from=${candleMs(last)}` : '';
  const r = await getJson(
    `/api/candles?symbol=${encodeURIComponent(page.symbol)}&kind=${page.kind}${from}&limit=5000`,
  );
  if (gen !== page.generation) return;
  chart.upsert(r.candles);
  legend(chart.lastCandle());
  status();
}

let pulseTimer = 0;
function pulse() {
  const dot = $('live');
  dot.classList.add('on');
  clearTimeout(pulseTimer);
  pulseTimer = window.setTimeout(() => dot.classList.remove('on'), 400);
  status();
}

/** The OHLCV line over the chart. @param {Candle | null} c */
function legend(c) {
  const el = $('legend');
  if (!c) {
    el.textContent = 'no candles yet';
    return;
  }
  const ms = candleMs(c);
  const when =
    c.kind === '1d'
      ? isoDate(ms, page.zone)
      : `${clock(ms, page.zone)}${c.kind === '100t' ? ` · #${c.seq}` : ''}`;
  const prices =
    c.open === null && c.high === null && c.low === null && c.close === null
      ? 'no price (volume-only trades)'
      : `O ${price(c.open)}  H ${price(c.high)}  L ${price(c.low)}  C ${price(c.close)}`;
  el.textContent = `${c.symbol} ${when}  ${prices}  V ${count(c.volume)}  ${count(c.tradeCount)} trades`;
}

// --- the state -------------------------------------------------------------------------------------

/** @param {any} s */
function onState(s) {
  page.state = s;
  const hs = s.health;
  const f = hs.feed;
  const now = s.at;
  if (page.lastTrades && now > page.lastTrades.at) {
    page.tradesPerS = ((f.trades - page.lastTrades.trades) * 1000) / (now - page.lastTrades.at);
  }
  page.lastTrades = { at: now, trades: f.trades };

  // Events: what changed since the last state.
  if (page.lastFeedState && page.lastFeedState !== f.state) {
    addEvent(`feed ${page.lastFeedState} → ${f.state}`, f.state === 'subscribed' ? 'ok' : 'warn');
  }
  page.lastFeedState = f.state;
  if (page.gapsToday >= 0 && f.gapsToday > page.gapsToday) {
    addEvent(`${f.gapsToday - page.gapsToday} new gap(s) recorded`, 'warn');
    // The count moves when the feed is back; the row reaches the database a moment later (the sink's
    // next batch): read now and again shortly after.
    const gen = page.generation;
    void loadGaps(gen);
    void loadTodayGaps();
    for (const ms of [1_500, 5_000]) {
      setTimeout(() => {
        void loadGaps(gen);
        void loadTodayGaps();
      }, ms);
    }
  }
  page.gapsToday = f.gapsToday;
  // Gaps are derived from what the database confirmed (every few seconds): a derivation may have changed the
  // rows, so the page reads them again after each one (the feed's own count above moves earlier).
  const derivations = hs.ledger?.derivations ?? null;
  if (derivations !== null && page.derivations !== null && derivations !== page.derivations) {
    void loadGaps(page.generation);
    void loadTodayGaps();
  }
  page.derivations = derivations;

  page.lastStateAt = Date.now();
  page.starting = s.starting === true;
  if (!page.reachable) {
    page.reachable = true;
    page.lostSince = null;
    addEvent('collector answering again', 'ok');
  }
  renderCards(s, cardContext());
  const pill = $('status');
  pill.textContent = page.starting ? 'starting…' : hs.status;
  pill.className = `pill ${hs.status === 'ok' ? 'ok' : 'warn'}`;
  renderReach();
  status();
}

/** Every quarter second: has the collector gone quiet? (and today's gaps, read again now and then) */
function watchReach() {
  const now = Date.now();
  const streamLost =
    !page.streamOpen && page.streamErrorAt !== null && now - page.streamErrorAt >= STREAM_LOST_MS;
  const stale = page.lastStateAt > 0 && now - page.lastStateAt > STATE_STALE_MS;
  if (page.reachable && (streamLost || stale)) {
    page.reachable = false;
    page.lostSince = page.lastStateAt || now;
    // For the browser test: when the page noticed.
    document.body.dataset.unreachableAt = String(now);
    addEvent('collector unreachable', 'bad');
  }
  if (!page.reachable) renderReach();
  else if (!page.starting && page.chart && now - page.todayGapsAt > GAPS_REFRESH_MS) void loadTodayGaps();
}

/** The banner over the cards: unreachable (since when; what is shown is greyed), or starting. */
function renderReach() {
  const el = $('reach');
  const pill = $('status');
  document.body.classList.toggle('stale', !page.reachable);
  document.body.dataset.reachable = String(page.reachable);
  if (!page.reachable) {
    const since = /** @type {number} */ (page.lostSince);
    el.hidden = false;
    el.className = 'reach';
    el.textContent =
      `Collector unreachable since ${clock(since, page.zone)} (${duration(Date.now() - since)} ago): ` +
      'the figures below are from then and no longer current. Trying again…';
    document.body.dataset.unreachableSince = String(since);
    pill.textContent = 'unreachable';
    pill.className = 'pill stale';
  } else if (page.starting) {
    el.hidden = false;
    el.className = 'reach starting';
    el.textContent = 'starting… the collector is opening its database; this page fills in when it is up.';
  } else {
    el.hidden = true;
    delete document.body.dataset.unreachableSince;
  }
}

/** @param {string} text @param {string} cls */
function addEvent(text, cls) {
  page.events.unshift({ at: Date.now(), text, cls });
  page.events.length = Math.min(page.events.length, 50);
  renderEvents();
}

function renderEvents() {
  $('events').replaceChildren(
    ...(page.events.length === 0
      ? [h('li', { class: 'muted' }, ['nothing since the page opened'])]
      : page.events.map((e) => h('li', { class: e.cls }, [`${clock(e.at, page.zone)} ${e.text}`]))),
  );
}

function renderGaps() {
  const all = page.todayGaps ?? [];
  const gaps = [...all].reverse().slice(0, 50);
  $('gaps-title').textContent =
    page.todayGaps === null
      ? 'Gaps today'
      : `Gaps today: ${all.length}${page.todayGapsMore ? '+' : ''} (every symbol, New York date)`;
  document.body.dataset.gapsListed = String(all.length);
  $('gaps').replaceChildren(
    ...(gaps.length === 0
      ? [h('li', { class: 'muted' }, [page.todayGaps === null ? '…' : 'no gaps today'])]
      : gaps.map((g) => {
          const fill =
            g.filledAt !== null
              ? ` · filled ${relative(g.filledAt - Date.now())}${g.filledTrades === null ? '' : ` (${count(g.filledTrades)} trades)`}`
              : g.fillError
                ? ` · fill failed: ${g.fillError}`
                : '';
          return h('li', { class: g.filledAt !== null ? 'ok' : 'warn' }, [
            `${clock(g.startedAt, page.zone)}–${clock(g.endedAt, page.zone)} `,
            h('b', {}, [duration(g.endedAt - g.startedAt)]),
            ` ${g.symbol === '*' ? 'all symbols' : g.symbol} · ${g.reason}${fill}`,
          ]);
        })),
  );
}

function status() {
  const info = page.chart?.info();
  const el = $('chart-status');
  el.textContent = info
    ? `${count(info.candles)} candles${info.volumeOnly > 0 ? ` (+${info.volumeOnly} volume-only)` : ''} · ${page.streamOpen ? 'live' : 'reconnecting…'}`
    : '';
  // For the browser test and anyone curious: what is drawn, as numbers.
  document.body.dataset.candles = String(info?.candles ?? 0);
  document.body.dataset.updates = String(info?.updates ?? 0);
  document.body.dataset.bands = String(info?.bands ?? 0);
  document.body.dataset.bandsVisible = String(info?.bandsVisible ?? 0);
  document.body.dataset.live = String(page.streamOpen);
  if (page.firstChartMs === null && (info?.candles ?? 0) > 0)
    page.firstChartMs = Math.round(performance.now());
  if (page.firstChartMs !== null) document.body.dataset.firstChartMs = String(page.firstChartMs);
}

/** A failed read, shown in the events list (the page goes on; the next event or switch tries again). */
/** @param {unknown} err */
function problem(err) {
  addEvent(err instanceof Error ? err.message : String(err), 'bad');
}

/** @param {Kind} k */
function kindLabel(k) {
  if (k === '1s') return `${page.meta.candleIntervalMs / 1000}-second`;
  if (k === '100t') return `${page.meta.tickCandleSize}-tick`;
  return { '1m': '1-minute', '5m': '5-minute', '1h': '1-hour', '1d': '1-day' }[k];
}

// The page's state, for the curious (and the browser test): `tickCollector.chart.info()` in the console.
Object.assign(globalThis, { tickCollector: page });

// --- start ---------------------------------------------------------------------------------------

/** Asks until the collector answers (it may be restarting), showing it unreachable meanwhile. */
/** @param {string} path */
async function untilAnswered(path) {
  for (;;) {
    try {
      return await getJson(path);
    } catch {
      if (page.reachable) {
        page.reachable = false;
        page.lostSince = Date.now();
        renderReach();
      }
      await sleep(1_000);
    }
  }
}

async function main() {
  setInterval(watchReach, 250);
  page.meta = await untilAnswered('/api/meta');
  const params = new URL(location.href).searchParams;
  const wanted = (params.get('symbol') ?? '').toUpperCase();
  page.symbol = page.meta.symbols.includes(wanted) ? wanted : (page.meta.symbols[0] ?? '');
  const kind = /** @type {Kind} */ (params.get('kind') ?? '1s');
  page.kind = page.meta.kinds.includes(kind) ? kind : '1s';
  page.zone = params.get('tz') === 'local' ? LOCAL : NY;
  page.vwap = params.get('vwap') === '1';
  const limit = Number(params.get('limit'));
  if (Number.isInteger(limit) && limit >= 1) CANDLES = Math.min(limit, 5000);
  $('mode').textContent = page.meta.mode;

  const select = /** @type {HTMLSelectElement} */ ($('symbol'));
  select.replaceChildren(...page.meta.symbols.map((s) => h('option', { value: s }, [s])));
  select.addEventListener('change', () => {
    page.symbol = select.value;
    selectSeries().catch(problem);
  });
  $('kinds').replaceChildren(
    ...page.meta.kinds.map((k) => {
      const b = h('button', { type: 'button', 'data-kind': k, 'aria-pressed': 'false' }, [kindLabel(k)]);
      b.addEventListener('click', () => {
        page.kind = k;
        selectSeries().catch(problem);
      });
      return b;
    }),
  );
  const zone = /** @type {HTMLSelectElement} */ ($('zone'));
  zone.replaceChildren(
    h('option', { value: 'ny' }, ['New York time']),
    h('option', { value: 'local' }, [`Your time (${LOCAL})`]),
  );
  zone.value = page.zone === NY ? 'ny' : 'local';
  zone.addEventListener('change', () => {
    page.zone = zone.value === 'local' ? LOCAL : NY;
    page.chart?.setZone(page.zone);
    legend(page.chart?.lastCandle() ?? null);
    renderGaps();
    renderEvents();
    axisLabels();
  });
  const vwap = /** @type {HTMLInputElement} */ ($('vwap'));
  vwap.checked = page.vwap;
  vwap.addEventListener('change', () => {
    page.vwap = vwap.checked;
    page.chart?.showVwap(page.vwap);
    const url = new URL(location.href);
    if (page.vwap) url.searchParams.set('vwap', '1');
    else url.searchParams.delete('vwap');
    history.replaceState(null, '', url);
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => page.chart?.applyTheme());

  renderEvents();
  renderGaps();
  // The state now; while the collector is starting (its port answers before its database is open), again
  // every half second until it is up. The stream then pushes it every second.
  for (;;) {
    onState(await untilAnswered('/api/state'));
    if (!page.starting) break;
    await sleep(500);
  }
  void loadTodayGaps();
  await selectSeries();
}

main().catch((err) => {
  $('legend').textContent = `The page could not start: ${err instanceof Error ? err.message : err}`;
  throw err;
});
