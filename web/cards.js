// The state cards at the top of the page (market, feed, database writes, today), drawn from one state event
// (/api/state or the stream's `state`: the /health snapshot plus each feed connection).
// @ts-check
import { $, h } from './dom.js';
import { clock, count, dayTime, duration, hm, LOCAL, NY, relative } from './format.js';

/** @param {number | null} ms @param {string} label */
function when(ms, label) {
  if (ms === null) return h('div', {}, [`${label}: —`]);
  const local = LOCAL === NY ? '' : ` · ${hm(ms, LOCAL)} your time`;
  return h('div', {}, [
    `${label}: `,
    h('strong', {}, [`${dayTime(ms, NY)} New York`]),
    `${local} (${relative(ms - Date.now())})`,
  ]);
}

/** @param {string} k @param {string | Node} v @param {string} [cls] */
const row = (k, v, cls = '') => h('div', { class: `kv ${cls}` }, [h('span', {}, [k]), h('b', {}, [v])]);

/**
 * @param {any} s
 * @param {{ tradesPerS: number | null, mode: string, marketHoursIgnored: boolean,
 *   gapsToday: number | null, gapsTodayMore: boolean }} ctx
 */
export function renderCards(s, ctx) {
  const hs = s.health;
  const f = hs.feed;
  const now = s.at;
  const m = hs.market;
  const open = m.open;
  $('market').replaceChildren(
    h('div', { class: `big ${open ? 'ok' : 'muted'}` }, [open ? 'Open' : 'Closed']),
    h('div', { class: 'muted' }, [m.reason]),
    when(m.nextOpen === null ? null : Date.parse(m.nextOpen), 'Next open'),
    when(m.nextClose === null ? null : Date.parse(m.nextClose), 'Next close'),
    h('div', { class: 'muted small' }, [
      `New York ${clock(now, NY)}`,
      LOCAL === NY ? '' : ` · ${LOCAL} ${clock(now, LOCAL)}`,
    ]),
    ...(ctx.mode === 'local'
      ? [h('div', { class: 'muted small' }, ['local mode: the simulator ignores market hours'])]
      : ctx.marketHoursIgnored
        ? [
            h('div', { class: 'warn small', id: 'hours-ignored' }, [
              'market hours ignored (--skip-market-hours): collecting now, whatever the calendar says',
            ]),
          ]
        : []),
  );

  const conns = /** @type {any[]} */ (s.connections);
  $('feed').replaceChildren(
    h('div', { class: `big ${f.state === 'subscribed' ? 'ok' : f.state === 'idle' ? 'muted' : 'warn'}` }, [
      f.state,
    ]),
    row('trades/s', ctx.tradesPerS === null ? '—' : count(ctx.tradesPerS)),
    row('lag p50 / p99', `${f.lagP50Ms ?? '—'} / ${f.lagP99Ms ?? '—'} ms`),
    row('last trade', f.lastTradeAgeMs === null ? '—' : `${duration(f.lastTradeAgeMs)} ago`),
    row('symbols', `${f.subscribedSymbols} subscribed`),
    h(
      'ol',
      { class: 'conns' },
      conns.map((c, i) =>
        h('li', { class: c.state === 'subscribed' ? 'ok' : 'warn' }, [
          `#${i + 1} ${c.state} · ${c.symbols} symbols · ${c.connects} connect${c.connects === 1 ? '' : 's'}`,
          c.lastTradeAt === null ? '' : ` · last trade ${duration(Math.max(0, now - c.lastTradeAt))} ago`,
        ]),
      ),
    ),
  );

  const k = hs.sink;
  const fill = k.maxBufferRows > 0 ? k.bufferedRows / k.maxBufferRows : 0;
  $('sink').replaceChildren(
    h('div', { class: `big ${k.connected ? 'ok' : k.lastError ? 'bad' : 'muted'}` }, [
      k.connected ? 'writing' : k.lastError ? 'disconnected' : 'waiting',
    ]),
    row('buffer', `${count(k.bufferedRows)} / ${count(k.maxBufferRows)} rows`, fill > 0.5 ? 'warn' : ''),
    row('spooled', `${count(k.spooledRows)} rows`, k.spooledRows > 0 ? 'warn' : ''),
    row('last write', k.lastWriteAt === null ? '—' : relative(Date.parse(k.lastWriteAt) - now)),
    row('rows written', count(k.rowsWritten)),
    row(
      'retries / dead letters',
      `${count(k.retries)} / ${count(k.deadLettered)}`,
      k.deadLettered > 0 ? 'bad' : '',
    ),
    ...(k.lastError ? [h('div', { class: 'bad small' }, [k.lastError])] : []),
  );

  // The gaps of the ledger for today, the same list the page shows beside the chart: one count.
  const g = ctx.gapsToday;
  $('today').replaceChildren(
    h('div', { class: `big ${g === null ? 'muted' : g > 0 ? 'warn' : 'ok'}`, id: 'gaps-today' }, [
      g === null ? '… gaps' : `${g}${ctx.gapsTodayMore ? '+' : ''} gap${g === 1 ? '' : 's'}`,
    ]),
    row('reconnects', count(f.reconnectsToday)),
    row(
      'candles 1s / 100t since start',
      `${count(hs.aggregate.candles1s)} / ${count(hs.aggregate.candles100t)}`,
    ),
    row('late / dropped trades', `${count(hs.aggregate.lateTrades)} / ${count(hs.aggregate.lateDropped)}`),
    row('event loop p99', `${hs.eventLoop.delayP99Ms} ms`),
    row('uptime', duration(hs.uptimeS * 1000)),
  );
}
