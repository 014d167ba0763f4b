// Full-jitter exponential backoff (AWS "Exponential Backoff and Jitter"): delay = random × min(max, base·2^n).
// Jitter spreads many collectors (and our own chunk sockets) so they do not reconnect in lock-step.
// The caller resets it only after a stable stretch of streaming, never on the first message of a
// flapping link, so a server that accepts and drops at once still sees growing delays.

export class Backoff {
  private failures = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay (ms); each call counts one more consecutive failure. */
  next(): number {
    const cap = Math.min(this.maxMs, this.baseMs * 2 ** this.failures);
    if (cap < this.maxMs) this.failures++;
    return Math.floor(this.random() * cap);
  }

  reset(): void {
    this.failures = 0;
  }
}
