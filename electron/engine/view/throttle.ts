// Rate limit for progress events: the first value goes out at once, later ones at most once per period,
// and only the newest of those that came in between (a UI needs the current state, not every step).

export class Throttle<T> {
  #pending: T | null = null;
  #lastSentMs = -Infinity;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  constructor(
    private readonly periodMs: number,
    private readonly send: (value: T) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(value: T): void {
    if (this.#stopped) return;
    const waitMs = this.#lastSentMs + this.periodMs - this.now();
    if (waitMs <= 0 && this.#timer === null) {
      this.#emit(value);
      return;
    }
    this.#pending = value;
    this.#timer ??= setTimeout(
      () => {
        this.#timer = null;
        const next = this.#pending;
        this.#pending = null;
        if (next !== null && !this.#stopped) this.#emit(next);
      },
      Math.max(0, waitMs),
    );
  }

  /** Sends the value still waiting, if any, now (before an "ended" event: the last state is never lost). */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const next = this.#pending;
    this.#pending = null;
    if (next !== null && !this.#stopped) this.#emit(next);
  }

  /** Drops what is waiting; nothing more is sent. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending = null;
  }

  #emit(value: T): void {
    this.#lastSentMs = this.now();
    this.send(value);
  }
}
