// The progress throttle: first value at once, then at most one per period, always the newest.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Throttle } from '../../../electron/engine/view/throttle.js';

describe('Throttle', () => {
  let now = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const advance = (ms: number): void => {
    now += ms;
    vi.advanceTimersByTime(ms);
  };

  it('sends the first value at once, then the newest once per period', () => {
    const sent: number[] = [];
    const t = new Throttle<number>(
      500,
      (v) => sent.push(v),
      () => now,
    );
    t.push(1);
    expect(sent).toEqual([1]);
    for (let v = 2; v <= 9; v++) {
      advance(100);
      t.push(v);
    }
    // 800 ms after the first: one more at 500 ms (the newest then, 5), the 9 waits for 1000 ms.
    expect(sent).toEqual([1, 5]);
    advance(200);
    expect(sent).toEqual([1, 5, 9]);
    advance(2000);
    expect(sent).toEqual([1, 5, 9]);
    // Quiet for longer than a period: the next goes at once again.
    t.push(10);
    expect(sent).toEqual([1, 5, 9, 10]);
  });

  it('flush sends the waiting value now (the last state before an end); stop drops everything', () => {
    const sent: string[] = [];
    const t = new Throttle<string>(
      250,
      (v) => sent.push(v),
      () => now,
    );
    t.push('a');
    advance(10);
    t.push('b');
    t.push('c');
    t.flush();
    expect(sent).toEqual(['a', 'c']);
    advance(1000);
    expect(sent).toEqual(['a', 'c']);
    advance(10);
    t.push('d');
    t.stop();
    t.push('e');
    advance(1000);
    expect(sent).toEqual(['a', 'c', 'd']);
  });
});
