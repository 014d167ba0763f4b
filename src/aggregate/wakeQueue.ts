// A binary min-heap of (time, item) wake-ups (WakeQueue).
// SecondAggregator's flush() visits only the symbols whose time has come instead of walking every symbol (at
// thousands of symbols, a late trade for one of them made every flush walk them all). Entries are never
// removed early: the owner recognises a stale one when it pops it.

export class WakeQueue<T> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.times.length;
  }

  /** Time of the earliest entry; Infinity when empty. */
  peekTime(): number {
    return this.times.length > 0 ? this.times[0]! : Number.POSITIVE_INFINITY;
  }

  push(time: number, item: T): void {
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(time);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= time) break;
      times[i] = times[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = time;
    items[i] = item;
  }

  /** Removes and returns the earliest entry's item (undefined when empty). */
  pop(): T | undefined {
    const times = this.times;
    const items = this.items;
    const n = times.length - 1;
    if (n < 0) return undefined;
    const top = items[0];
    const time = times[n]!;
    const item = items[n]!;
    times.pop();
    items.pop();
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && times[c + 1]! < times[c]!) c++;
        if (times[c]! >= time) break;
        times[i] = times[c]!;
        items[i] = items[c]!;
        i = c;
      }
      times[i] = time;
      items[i] = item;
    }
    return top;
  }
}
