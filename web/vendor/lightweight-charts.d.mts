// Types for the page's import of the charting library, which the collector serves at this path from
// node_modules/lightweight-charts (src/web/assets.ts). Only the type checker reads this file.
export * from 'lightweight-charts';
