// A FIFO with O(1) amortised push and take-from-the-front (RowQueue).
// (Array#shift is O(n), and push() must stay O(1) on the feed's hot path).
export class RowQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Removes and returns up to `n` items from the front, oldest first. */
  take(n: number): T[] {
    const end = Math.min(this.items.length, this.head + n);
    const out = this.items.slice(this.head, end) as T[];
    this.head = end;
    // Compact once the dead prefix dominates, so memory follows the live length.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Puts items back at the front (a batch that could not be written), keeping their order. */
  unshift(rows: readonly T[]): void {
    if (rows.length === 0) return;
    if (this.head >= rows.length) {
      this.head -= rows.length;
      for (let i = 0; i < rows.length; i++) this.items[this.head + i] = rows[i];
    } else {
      this.items = [...rows, ...this.items.slice(this.head)];
      this.head = 0;
    }
  }
}
