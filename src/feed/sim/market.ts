// A simulated tape (SimMarket): the trades the simulator sends.
// Seeded random-walk prices per symbol, Poisson arrival counts, mostly round-lot sizes with odd lots,
// condition codes, occasional dark-pool prints. Deterministic for a given seed.

/** mulberry32: small, fast, good enough for a simulation; seeded so runs repeat. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Plausible starting prices for common tickers; others get a stable pseudo-random price from the name. */
const START_PRICES: Record<string, number> = {
  AAPL: 227,
  MSFT: 415,
  NVDA: 120,
  AMZN: 180,
  TSLA: 250,
  GOOGL: 165,
  GOOG: 166,
  META: 500,
  SPY: 560,
  QQQ: 480,
  AMD: 150,
  NFLX: 650,
  JPM: 210,
  INTC: 22,
};

function startPrice(symbol: string): number {
  const known = START_PRICES[symbol];
  if (known !== undefined) return known;
  let h = 2166136261;
  for (let i = 0; i < symbol.length; i++) h = Math.imul(h ^ symbol.charCodeAt(i), 16777619) >>> 0;
  return 10 + (h % 49000) / 100; // $10 – $500
}

export interface SimTrade {
  s: string;
  p: number;
  v: number;
  c: number[];
  dp: boolean;
  ms: string;
  t: number;
}

export class SimMarket {
  private readonly prices = new Map<string, number>();
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** The number of trades due in `dtMs` at `ratePerSec`: Poisson (normal approximation for large means). */
  arrivals(ratePerSec: number, dtMs: number): number {
    const mean = (ratePerSec * dtMs) / 1000;
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.gaussian()));
    const limit = Math.exp(-mean); // Knuth
    let k = 0;
    let p = this.random();
    while (p > limit) {
      k++;
      p *= this.random();
    }
    return k;
  }

  pick<T>(items: readonly T[]): T | undefined {
    return items[Math.floor(this.random() * items.length)];
  }

  trade(symbol: string, t: number): SimTrade {
    const r = this.random;
    const last = this.prices.get(symbol) ?? startPrice(symbol);
    // A geometric random walk, ~2 bp per trade, kept above a cent; cents above $1, 4 decimals below.
    const next = Math.max(0.01, last * Math.exp(0.0002 * this.gaussian()));
    this.prices.set(symbol, next);
    const p = next >= 1 ? Math.round(next * 100) / 100 : Math.round(next * 10000) / 10000;

    const oddLot = r() < 0.3;
    const v = oddLot ? 1 + Math.floor(r() * 99) : 100 * (1 + Math.floor(-Math.log(1 - r()) * 2));
    return { s: symbol, p, v, c: this.conditions(oddLot), dp: r() < 0.04, ms: 'open', t };
  }

  /**
   * A realistic mix of condition ids, so local mode shows the update rules at work: mostly regular trades and
   * odd lots (37), intermarket sweeps (14, 14+37+41), some Form T (12), and now and then the prints that update
   * only volume (2, 7, 53) or not open/close (22, 10), a corrected close (38, no volume) and the official
   * open/close reports (15/16, which update nothing).
   */
  private conditions(oddLot: boolean): number[] {
    const x = this.random();
    if (oddLot) return x < 0.15 ? [14, 37, 41] : [37];
    if (x < 0.6) return [];
    if (x < 0.8) return [14];
    if (x < 0.86) return [12];
    if (x < 0.88) return [2];
    if (x < 0.9) return [22];
    if (x < 0.92) return [10];
    if (x < 0.94) return [7];
    if (x < 0.96) return [53];
    if (x < 0.97) return [38];
    return x < 0.985 ? [16] : [15];
  }

  private gaussian(): number {
    // Box–Muller; 1 − r() avoids log(0).
    return Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
  }
}
