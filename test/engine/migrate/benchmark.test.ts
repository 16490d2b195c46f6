import { describe, expect, it } from 'vitest';
import { lastNumber, runBenchmark } from '../../../electron/engine/migrate/benchmark.js';

describe('lastNumber', () => {
  it.each([
    ['throughput: 1234.5 ops/s\n', 1234.5],
    ['run 3 of 3: 1,234,567 ops/s', 1234567],
    ['p99 12ms, qps 5e3', 5000],
    ['-3.5', -3.5],
    ['no digits here', null],
  ])('%j → %s', (text, value) => {
    expect(lastNumber(text)).toBe(value);
  });
});

describe('runBenchmark', () => {
  it('records the last number the command prints', async () => {
    expect(await runBenchmark('echo warmup 1; echo "result: 42.5 ops/s"')).toEqual({
      value: 42.5,
      problem: '',
      exitCode: 0,
    });
  });

  it('says why there is no number: a failing command, or one that prints none', async () => {
    const failed = await runBenchmark('echo 7; echo oops >&2; exit 3');
    expect(failed).toEqual({
      value: null,
      problem: 'the benchmark command exited with status 3: oops',
      exitCode: 3,
    });
    expect((await runBenchmark('true')).problem).toBe('the benchmark command printed no number on stdout');
  });

  it('kills a command that runs past its time limit', async () => {
    const r = await runBenchmark('echo 1; sleep 30', { timeoutMs: 200 });
    expect(r.value).toBeNull();
    expect(r.problem).toMatch(/ran longer than 0 s and was killed/);
  });
});
