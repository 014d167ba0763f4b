// The gap bands: a lightweight-charts series primitive that shades, under the candles, the points inside
// each gap of the feed (orange; blue once backfilled), with a strip along the top edge.
// @ts-check
import { theme } from './theme.js';

/** @typedef {import('./vendor/lightweight-charts.mjs').IChartApi} IChartApi */

/** The gap bands: a series primitive drawn under the candles. */
export class GapBands {
  constructor() {
    /** @type {{ first: number, last: number, filled: boolean }[]} the points inside each gap (none: last < first) */
    this.ranges = [];
    /** @type {{ x: number, w: number, filled: boolean }[]} */
    this.rects = [];
    /** @type {IChartApi | null} */
    this.chart = null;
    /** @type {(() => void) | null} */
    this.requestUpdate = null;
    this.colors = theme();
    const self = this;
    this.view = {
      zOrder: () => /** @type {const} */ ('bottom'),
      renderer: () => ({
        /** @param {any} target */
        draw(target) {
          target.useMediaCoordinateSpace(
            /** @param {{ context: CanvasRenderingContext2D, mediaSize: { width: number, height: number } }} s */
            ({ context, mediaSize }) => {
              for (const r of self.rects) {
                context.fillStyle = r.filled ? self.colors.filled : self.colors.gap;
                context.fillRect(r.x, 0, r.w, mediaSize.height);
                context.fillStyle = self.colors.gapEdge;
                context.fillRect(r.x, 0, r.w, 3);
              }
            },
          );
        },
      }),
    };
  }

  /** @param {{ chart: IChartApi, requestUpdate: () => void }} p */
  attached({ chart, requestUpdate }) {
    this.chart = chart;
    this.requestUpdate = requestUpdate;
  }

  detached() {
    this.chart = null;
  }

  updateAllViews() {
    const ts = this.chart?.timeScale();
    if (!ts) return;
    const width = ts.width();
    this.rects = [];
    // Whole logical indices only (the library answers 0 for a fractional one): bar centres ± half a bar.
    const at = (/** @type {number} */ i) => ts.logicalToCoordinate(/** @type {any} */ (i));
    const spacing = (at(1) ?? 0) - (at(0) ?? 0);
    const half = (spacing > 0 ? spacing : ts.options().barSpacing) / 2;
    for (const r of this.ranges) {
      const a = at(r.first);
      if (a === null) continue;
      let x = a - half;
      let w = 0;
      if (r.last >= r.first) {
        const b = at(r.last);
        if (b === null) continue;
        w = b + half - x;
      }
      if (w < 4) {
        x -= (4 - w) / 2;
        w = 4;
      }
      if (x + w < 0 || x > width) continue;
      this.rects.push({ x, w, filled: r.filled });
    }
  }

  paneViews() {
    return [this.view];
  }
}
