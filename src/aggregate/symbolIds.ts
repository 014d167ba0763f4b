// Symbol → small integer id, assigned in order of first sight (0, 1, 2, …) and never reused.
// The aggregators keep per-symbol state in id-indexed arrays; `Aggregators` shares one table among its parts
// so a trade costs one Map lookup in all, not one per part (at thousands of symbols each lookup is a cache
// miss or two).

export class SymbolIds {
  private readonly map = new Map<string, number>();
  /** names[id] is the symbol of id. */
  readonly names: string[] = [];

  /** The id of `symbol`, assigning the next one on first sight. */
  idOf(symbol: string): number {
    const id = this.map.get(symbol);
    return id === undefined ? this.assign(symbol) : id;
  }

  /** The id of `symbol`, or −1 if it has none yet. */
  peek(symbol: string): number {
    return this.map.get(symbol) ?? -1;
  }

  /** Ids assigned so far (ids are 0 … size−1). */
  get size(): number {
    return this.names.length;
  }

  private assign(symbol: string): number {
    const id = this.names.length;
    this.map.set(symbol, id);
    this.names.push(symbol);
    return id;
  }
}
