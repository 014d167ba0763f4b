// The candlestick chart: lightweight-charts with a volume histogram under the candles and the feed's gaps
// shaded on the time axis. One x per candle: a 1-second candle at its second (UTC seconds, formatted in
// the chosen zone); a 100-tick candle at day·10⁶ + seq, since several can end in the same second (labels
// come from the candle's own time); a bar (1m … 1d) at its start's second. Candles without a price (volume-only trades under the condition rules)
// are whitespace in the candle series, never a zero.
// @ts-check

import { candleMs, candleX, drawable } from './candles.js';
import { clock, day, hm, isoDate } from './format.js';
import { GapBands } from './gapBands.js';
import { theme } from './theme.js';
import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  createChart,
  HistogramSeries,
  LineSeries,
  TickMarkType,
} from './vendor/lightweight-charts.mjs';

/** @typedef {import('./vendor/lightweight-charts.mjs').IChartApi} IChartApi */
/** @typedef {import('./vendor/lightweight-charts.mjs').UTCTimestamp} UTCTimestamp */
/** @typedef {import('./vendor/lightweight-charts.mjs').Time} Time */

/** @typedef {import('./candles.js').Candle} Candle */
/** @typedef {import('./candles.js').Gap} Gap */
/** A point on the time scale: a candle, or whitespace inside a gap (so the gap has width). */
/** @typedef {{ x: number, ms: number, candle: Candle | null }} Point */

/** Fillers per gap at most (a longer gap is sampled): enough to be seen, bounded however long it was. */
const MAX_FILLERS = 600;
/** The view is fitted to the data while every candle fits at this bar width or wider (px). */
const MIN_FIT_SPACING = 6;
/** The widest a fitted bar gets (a handful of candles fill the plot, but not with giant bars). */
const MAX_FIT_SPACING = 80;
/** Beyond what fits: the latest candles at this width. */
const READ_SPACING = 8;

export class CandleChart {
  /**
   * @param {HTMLElement} el
   * @param {{ kind: import('./candles.js').Kind, zone: string, onNearStart: () => void, vwap?: boolean }} opts
   */
  constructor(el, opts) {
    this.el = el;
    this.kind = opts.kind;
    this.zone = opts.zone;
    this.onNearStart = opts.onNearStart;
    /** @type {Map<number, Candle>} x → candle */
    this.byX = new Map();
    /** @type {number[]} sorted x of the candles */
    this.xs = [];
    /** @type {Point[]} */
    this.points = [];
    /** @type {Gap[]} */
    this.gaps = [];
    this.updates = 0;
    /** Fitted to the data (on load and a kind switch), and kept so while the candles fit the plot. */
    this.fitted = false;
    this.colors = theme();
    this.bands = new GapBands();
    /** @type {IChartApi} */
    this.chart = createChart(el, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: this.colors.bg },
        textColor: this.colors.fg,
        fontFamily: 'system-ui, sans-serif',
      },
      grid: { vertLines: { color: this.colors.grid }, horzLines: { color: this.colors.grid } },
      crosshair: { mode: CrosshairMode.Normal },
      rightPriceScale: { scaleMargins: { top: 0.08, bottom: 0.28 } },
      timeScale: {
        timeVisible: true,
        secondsVisible: opts.kind === '1s' || opts.kind === '100t',
        rightOffset: 2,
        maxBarSpacing: MAX_FIT_SPACING,
        tickMarkFormatter: (/** @type {Time} */ t, /** @type {number} */ type) => this.tick(t, type),
      },
      localization: { timeFormatter: (/** @type {Time} */ t) => this.label(t) },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: this.colors.up,
      downColor: this.colors.down,
      borderVisible: false,
      wickUpColor: this.colors.up,
      wickDownColor: this.colors.down,
      priceLineVisible: true,
    });
    this.volume = this.chart.addSeries(HistogramSeries, {
      priceScaleId: 'volume',
      priceFormat: { type: 'volume' },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.78, bottom: 0 } });
    this.vwap = this.chart.addSeries(LineSeries, {
      color: this.colors.vwap,
      lineWidth: 2,
      lastValueVisible: false,
      priceLineVisible: false,
      crosshairMarkerVisible: false,
      visible: opts.vwap === true,
      title: 'VWAP',
    });
    this.candles.attachPrimitive(/** @type {any} */ (this.bands));
    this.chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (range && range.from < 30 && this.points.length > 0) this.onNearStart();
    });
  }

  /** @param {number} x */
  msOf(x) {
    if (this.kind !== '100t') return x * 1000;
    const c = this.byX.get(x);
    return c ? candleMs(c) : null;
  }

  /** @param {Time} t @param {number} type */
  tick(t, type) {
    const ms = this.msOf(/** @type {number} */ (t));
    if (ms === null) return '';
    // A day bar starts at New York midnight: its date, never a time of day.
    if (
      this.kind === '1d' ||
      type === TickMarkType.Year ||
      type === TickMarkType.Month ||
      type === TickMarkType.DayOfMonth
    ) {
      return day(ms, this.zone);
    }
    return type === TickMarkType.Time ? hm(ms, this.zone) : clock(ms, this.zone);
  }

  /** @param {Time} t */
  label(t) {
    const x = /** @type {number} */ (t);
    const ms = this.msOf(x);
    if (ms === null) return '';
    const when =
      this.kind === '1d' ? isoDate(ms, this.zone) : `${isoDate(ms, this.zone)} ${clock(ms, this.zone)}`;
    const c = this.byX.get(x);
    return this.kind === '100t' && c ? `#${c.seq} · ${when}` : when;
  }

  /** @param {string} zone */
  setZone(zone) {
    this.zone = zone;
    // Formatters read this.zone; re-applying the options redraws the axis with it.
    this.chart.applyOptions({ localization: { timeFormatter: (/** @type {Time} */ t) => this.label(t) } });
  }

  applyTheme() {
    this.colors = theme();
    this.bands.colors = this.colors;
    this.chart.applyOptions({
      layout: { background: { type: ColorType.Solid, color: this.colors.bg }, textColor: this.colors.fg },
      grid: { vertLines: { color: this.colors.grid }, horzLines: { color: this.colors.grid } },
    });
    this.vwap.applyOptions({ color: this.colors.vwap });
    this.candles.applyOptions({
      upColor: this.colors.up,
      downColor: this.colors.down,
      wickUpColor: this.colors.up,
      wickDownColor: this.colors.down,
    });
    this.rebuild();
  }

  /** @param {Candle[]} candles */
  setCandles(candles) {
    this.byX.clear();
    for (const c of candles) this.byX.set(candleX(c), c);
    this.rebuild({ fit: true });
  }

  /** Older candles (scrolling back): the view stays where it was. @param {Candle[]} candles */
  prepend(candles) {
    for (const c of candles) this.byX.set(candleX(c), c);
    this.rebuild();
  }

  /** @param {Gap[]} gaps */
  setGaps(gaps) {
    this.gaps = gaps;
    this.rebuild();
  }

  /** Live candles: new ones are appended, a candle written again (late trades) replaces its earlier version. */
  /** @param {Candle[]} batch */
  upsert(batch) {
    const sorted = [...batch].sort((a, b) => candleX(a) - candleX(b));
    let needRebuild = false;
    const last =
      this.points.length > 0 ? /** @type {Point} */ (this.points[this.points.length - 1]).x : -Infinity;
    /** @type {Candle[]} */
    const appended = [];
    for (const c of sorted) {
      const x = candleX(c);
      const known = this.byX.has(x);
      this.byX.set(x, c);
      if (x > last && !needRebuild) appended.push(c);
      else if (x === last && known && appended.length === 0) appended.push(c);
      else needRebuild = true;
    }
    this.updates += batch.length;
    if (needRebuild) return this.rebuild();
    for (const c of appended) {
      const x = candleX(c);
      const last = this.points[this.points.length - 1];
      if (last && last.x === x) last.candle = c;
      else {
        this.xs.push(x);
        this.points.push({ x, ms: candleMs(c), candle: c });
      }
      this.candles.update(this.bar(x, c));
      this.volume.update(this.vol(x, c));
      this.vwap.update(this.vwapPoint(x, c));
    }
    if (this.fitted) this.fit();
  }

  /** @param {number} x @param {Candle} c */
  vwapPoint(x, c) {
    const time = /** @type {UTCTimestamp} */ (x);
    return c.vwap === null ? { time } : { time, value: c.vwap };
  }

  /** @param {boolean} on */
  showVwap(on) {
    this.vwap.applyOptions({ visible: on });
  }

  /**
   * Every candle in view, spread over the plot, while they fit at a readable width; beyond that the latest
   * ones at that width, right edge on the newest. Called on load and on a kind switch, and again as live
   * candles arrive while they still fit.
   */
  fit() {
    const ts = this.chart.timeScale();
    const n = this.points.length;
    const width = ts.width();
    if (n === 0 || width <= 0) {
      // Nothing yet: the first candles are fitted as they come.
      this.fitted = true;
      return;
    }
    if (n * MIN_FIT_SPACING <= width) {
      this.fitted = true;
      // From the left edge: n bars across the plot, or (a handful) at the widest readable bar, filling
      // rightwards as more arrive.
      const slots = Math.max(n, width / MAX_FIT_SPACING);
      ts.applyOptions({ rightOffset: 0 });
      ts.setVisibleLogicalRange({ from: -0.5, to: slots - 0.5 });
    } else {
      this.fitted = false;
      ts.applyOptions({ barSpacing: READ_SPACING, rightOffset: 2 });
      ts.scrollToRealTime();
    }
  }

  /** @param {number} x @param {Candle} c */
  bar(x, c) {
    const d = drawable(c);
    const time = /** @type {UTCTimestamp} */ (x);
    return d ? { time, ...d } : { time };
  }

  /** @param {number} x @param {Candle} c */
  vol(x, c) {
    const d = drawable(c);
    const color = !d ? this.colors.flatVol : d.close >= d.open ? this.colors.upVol : this.colors.downVol;
    return { time: /** @type {UTCTimestamp} */ (x), value: c.volume, color };
  }

  /** Points from the candles plus whitespace inside each gap, then the series data and the bands. */
  rebuild(opts = { fit: false }) {
    const ts = this.chart.timeScale();
    const following = !opts.fit && ts.scrollPosition() > -2;
    const range = ts.getVisibleLogicalRange();
    const anchor = range
      ? this.points[Math.max(0, Math.min(this.points.length - 1, Math.round(range.to)))]
      : null;

    this.xs = [...this.byX.keys()].sort((a, b) => a - b);
    /** @type {Point[]} */
    const points = this.xs.map((x) => {
      const c = /** @type {Candle} */ (this.byX.get(x));
      return { x, ms: candleMs(c), candle: c };
    });
    if (this.kind === '1s' && points.length > 0) {
      const first = /** @type {Point} */ (points[0]).x;
      for (const g of this.gaps) {
        const a = Math.max(first, Math.ceil(g.startedAt / 1000));
        const b = Math.floor(g.endedAt / 1000);
        if (b < a) continue;
        const step = Math.max(1, Math.ceil((b - a + 1) / MAX_FILLERS));
        for (let s = a; s <= b; s += step) {
          if (!this.byX.has(s)) points.push({ x: s, ms: s * 1000, candle: null });
        }
      }
      points.sort((p, q) => p.x - q.x);
    }
    this.points = points;
    this.candles.setData(
      points.map((p) => (p.candle ? this.bar(p.x, p.candle) : { time: /** @type {UTCTimestamp} */ (p.x) })),
    );
    this.volume.setData(
      points.filter((p) => p.candle).map((p) => this.vol(p.x, /** @type {Candle} */ (p.candle))),
    );
    this.vwap.setData(
      points.map((p) =>
        p.candle ? this.vwapPoint(p.x, p.candle) : { time: /** @type {UTCTimestamp} */ (p.x) },
      ),
    );
    this.bands.ranges = this.gapRanges();
    this.bands.requestUpdate?.();

    if (opts.fit || this.fitted) {
      this.fit();
    } else if (following) {
      ts.scrollToRealTime();
    } else if (range && anchor) {
      const i = this.indexAtOrAfter(anchor.x);
      const width = range.to - range.from;
      ts.setVisibleLogicalRange({ from: i - width, to: i });
    }
  }

  /** Index of the first point with x ≥ `x`. @param {number} x */
  indexAtOrAfter(x) {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (/** @type {Point} */ (this.points[mid]).x < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first point at or after the instant. @param {number} ms */
  indexAtOrAfterMs(ms) {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const p = /** @type {Point} */ (this.points[mid]);
      // A 100-tick candle is after the instant when its first trade is.
      const at = p.candle?.kind === '100t' ? /** @type {number} */ (p.candle.startAt) : p.ms;
      if (at < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  gapRanges() {
    const n = this.points.length;
    if (n === 0) return [];
    const firstMs = /** @type {Point} */ (this.points[0]).ms;
    return this.gaps
      .filter((g) => g.endedAt >= firstMs)
      .map((g) => {
        const i0 = this.indexAtOrAfterMs(g.startedAt);
        const i1 = this.indexAtOrAfterMs(g.endedAt + 1);
        return { first: i0, last: i1 - 1, filled: g.filledAt !== null };
      });
  }

  /** What the page draws, for the status line and the browser test. */
  info() {
    const data = this.candles.data();
    const ts = this.chart.timeScale();
    const n = this.points.length;
    // Where the first and last points are drawn, as a share of the plot's width (the fitted view).
    const x0 = n > 0 ? ts.logicalToCoordinate(/** @type {any} */ (0)) : null;
    const x1 = n > 0 ? ts.logicalToCoordinate(/** @type {any} */ (n - 1)) : null;
    const span = x0 !== null && x1 !== null && ts.width() > 0 ? (x1 - x0) / ts.width() : 0;
    const drawn = data.filter((d) => 'open' in d).length;
    const last = this.points[this.points.length - 1];
    return {
      points: data.length,
      candles: drawn,
      volumeOnly: this.byX.size - drawn,
      bands: this.bands.ranges.length,
      bandsVisible: this.bands.rects.length,
      lastMs: last ? last.ms : null,
      updates: this.updates,
      fitted: this.fitted,
      span,
      vwapPoints: this.vwap.data().filter((d) => 'value' in d).length,
    };
  }

  firstMs() {
    const c = this.byX.get(/** @type {number} */ (this.xs[0]));
    return c ? candleMs(c) : null;
  }

  lastCandle() {
    const x = this.xs[this.xs.length - 1];
    return x === undefined ? null : (this.byX.get(x) ?? null);
  }

  /** @param {(c: Candle | null) => void} fn */
  onHover(fn) {
    this.chart.subscribeCrosshairMove((p) => {
      const c = p.time === undefined ? null : (this.byX.get(/** @type {number} */ (p.time)) ?? null);
      fn(c);
    });
  }

  destroy() {
    this.chart.remove();
  }
}
