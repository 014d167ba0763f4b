// Which of our symbols a headline mentions (createSymbolMatcher).
// Whole words only ("AAPL" and "$AAPL" yes, "AAPLE" no), case-sensitive (tickers are written in capitals;
// "all" is not ALL). "BRK.B" is not a mention of BRK.

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

export type SymbolMatcher = (text: string) => string[];

export function createSymbolMatcher(symbols: readonly string[]): SymbolMatcher {
  const unique = [...new Set(symbols.map((s) => s.trim().toUpperCase()).filter((s) => s !== ''))];
  if (unique.length === 0) return () => [];
  // Longest first so "BRK.B" wins over "BRK" at the same position.
  const alts = [...unique].sort((a, b) => b.length - a.length).map(escapeRegex);
  const re = new RegExp(`(?<![A-Za-z0-9.])\\$?(${alts.join('|')})(?![A-Za-z0-9]|\\.[A-Za-z0-9])`, 'g');
  return (text) => {
    if (text === '') return [];
    const found = new Set<string>();
    for (const m of text.matchAll(re)) if (m[1] !== undefined) found.add(m[1]);
    // Report in the configured order, so the stored arrays are stable.
    return unique.filter((s) => found.has(s));
  };
}
