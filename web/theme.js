// The page's colours, read from the CSS variables (style.css: light and dark from prefers-color-scheme).
// @ts-check

/** @param {string} name */
const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

export function theme() {
  return {
    bg: cssVar('--bg') || '#fff',
    fg: cssVar('--fg') || '#111',
    grid: cssVar('--grid') || '#eee',
    up: cssVar('--up') || '#26a69a',
    down: cssVar('--down') || '#ef5350',
    upVol: cssVar('--up-vol') || 'rgba(38,166,154,0.45)',
    downVol: cssVar('--down-vol') || 'rgba(239,83,80,0.45)',
    flatVol: cssVar('--flat-vol') || 'rgba(128,128,128,0.45)',
    gap: cssVar('--gap') || 'rgba(255,160,0,0.18)',
    gapEdge: cssVar('--gap-edge') || 'rgba(255,160,0,0.8)',
    filled: cssVar('--gap-filled') || 'rgba(80,160,255,0.15)',
    vwap: cssVar('--vwap') || '#7c4dff',
  };
}
