// Name suggestions for typos ("did you mean"): edit distance and the closest known name.
// "Did you mean": the closest known name within a small edit distance (an unknown command, a misspelt
// environment variable such as DATABSE_URL, which would otherwise be ignored in silence).

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...new Array<number>(b.length).fill(0),
  ]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name closest to `name` (1 edit for short names, 2 from 8 characters), or undefined. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  const limit = name.length >= 8 ? 2 : 1;
  let best: string | undefined;
  let bestD = limit + 1;
  for (const k of known) {
    const dist = editDistance(name.toUpperCase(), k.toUpperCase());
    if (dist > 0 && dist < bestD) {
      best = k;
      bestD = dist;
    }
  }
  return best;
}
