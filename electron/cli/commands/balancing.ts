import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BALANCING_COUNTERS,
  BalancingOverride,
  parseBalancingMode,
  readBalancing,
  type BalancingChange,
  type BalancingState,
} from '../../engine/migrate/index.js';
import {
  commonOptions,
  durationOption,
  printJson,
  stringOption,
  UsageError,
  type CliIo,
  type Command,
} from '../io.js';
import { renderTable } from '../table.js';

export const balancingCommand: Command = {
  usage:
    'usage: tierscope balancing [--interval D] [--json]\n' +
    '       tierscope balancing [--numa-balancing MODE] [--demotion on|off] --yes [--for D | -- CMD [ARGS...]]\n' +
    '  (no change)        show the NUMA balancing mode, demotion, and their vmstat counters\n' +
    '  --interval D       also show how much each counter grew over D\n' +
    '  --numa-balancing M 0|off, 1|normal, 2|memory-tiering, 3|both: /proc/sys/kernel/numa_balancing\n' +
    '  --demotion on|off  /sys/kernel/mm/numa/demotion_enabled\n' +
    '  --yes              confirm: these switches affect every process of the machine\n' +
    '  --for D            keep the change for D, then restore (default: until Ctrl-C)\n' +
    '  -- CMD ...         keep the change while CMD runs (e.g. an experiment), then restore\n' +
    'The previous values are always restored on exit, Ctrl-C or SIGTERM.\n',
  options: {
    ...commonOptions,
    interval: { type: 'string' },
    'numa-balancing': { type: 'string' },
    demotion: { type: 'string' },
    yes: { type: 'boolean' },
    for: { type: 'string' },
  },
  positionals: { min: 0, max: Number.MAX_SAFE_INTEGER, names: 'an optional command after --' },
  async run(values, io, positionals) {
    const change: BalancingChange = {};
    const modeRaw = stringOption(values, 'numa-balancing', false);
    if (modeRaw !== undefined) {
      const mode = parseBalancingMode(modeRaw);
      if (mode === null)
        throw new UsageError(
          `--numa-balancing expects 0-3 or off|normal|memory-tiering|both, got '${modeRaw}'`,
        );
      change.numaBalancing = mode;
    }
    const demotionRaw = stringOption(values, 'demotion', false);
    if (demotionRaw !== undefined) {
      if (!['on', 'off', 'true', 'false'].includes(demotionRaw))
        throw new UsageError(`--demotion expects on or off, got '${demotionRaw}'`);
      change.demotionEnabled = demotionRaw === 'on' || demotionRaw === 'true';
    }
    const changing = change.numaBalancing !== undefined || change.demotionEnabled !== undefined;
    const forMs = durationOption(values, 'for');
    if (!changing) {
      if (forMs !== undefined || positionals.length > 0 || values['yes'] === true) {
        throw new UsageError('--yes, --for and a command only go with --numa-balancing or --demotion');
      }
      await show(io, values['json'] === true, durationOption(values, 'interval'));
      return;
    }
    if (values['yes'] !== true) {
      throw new UsageError(
        'changing NUMA balancing or demotion affects every process on this machine: add --yes to confirm',
      );
    }
    if (forMs !== undefined && positionals.length > 0)
      throw new UsageError('pass either --for or a command, not both');

    const override = await BalancingOverride.apply(change, true);
    const stop = new AbortController();
    // `on`, not `once`: a second Ctrl-C while restoring must not kill us before the old values are back.
    const onSignal = (): void => {
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // If something ends the process without unwinding (process.exit elsewhere), restore synchronously.
    const onExit = (): void => {
      override.restoreSync();
    };
    process.once('exit', onExit);
    try {
      const after = await readBalancing();
      io.err(`set ${describeState(after)} (was ${describePrevious(override)}); `);
      if (positionals.length > 0) {
        io.err(`running ${positionals.join(' ')}\n`);
        const code = await runChild(positionals, stop.signal);
        io.err(`command exited with status ${code}; `);
      } else if (forMs !== undefined) {
        io.err(`restoring in ${Math.round(forMs / 1000)} s (Ctrl-C restores now)\n`);
        await sleep(forMs, undefined, { signal: stop.signal }).catch(() => undefined);
      } else {
        io.err('Ctrl-C restores the previous settings\n');
        await new Promise<void>((resolve) => {
          stop.signal.addEventListener(
            'abort',
            () => {
              resolve();
            },
            { once: true },
          );
        });
      }
    } finally {
      await override.restore();
      process.off('exit', onExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      io.err(`restored ${describePrevious(override)}\n`);
    }
  },
};

function describeState(s: BalancingState): string {
  const b = s.numaBalancing
    ? `numa_balancing=${s.numaBalancing.raw} (${s.numaBalancing.mode})`
    : 'numa_balancing n/a';
  const d = s.demotionEnabled === null ? 'demotion n/a' : `demotion_enabled=${String(s.demotionEnabled)}`;
  return `${b}, ${d}`;
}

function describePrevious(o: BalancingOverride): string {
  const parts: string[] = [];
  if (o.previous.numaBalancing !== null) parts.push(`numa_balancing=${o.previous.numaBalancing}`);
  if (o.previous.demotionEnabled !== null)
    parts.push(`demotion_enabled=${String(o.previous.demotionEnabled)}`);
  return parts.join(', ');
}

function runChild(argv: readonly string[], signal: AbortSignal): Promise<number> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd ?? 'true', args, { stdio: 'inherit' });
    const onAbort = (): void => {
      child.kill('SIGTERM');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', () => {
      resolve(127);
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      resolve(code ?? (sig ? 128 : 1));
    });
  });
}

async function show(io: CliIo, json: boolean, intervalMs: number | undefined): Promise<void> {
  const first = await readBalancing();
  let delta: Record<string, number> | null = null;
  if (intervalMs !== undefined) {
    await sleep(intervalMs);
    const second = await readBalancing();
    delta = {};
    for (const [k, v] of Object.entries(second.counters)) delta[k] = v - (first.counters[k] ?? 0);
  }
  if (json) {
    printJson(io, { ...first, ...(delta ? { deltas: delta, intervalMs } : {}) });
    return;
  }
  const mode = first.numaBalancing
    ? `${first.numaBalancing.mode} (${first.numaBalancing.raw})`
    : 'not supported by this kernel';
  const demotion =
    first.demotionEnabled === null ? 'not supported by this kernel' : String(first.demotionEnabled);
  let out = `numa_balancing: ${mode}\ndemotion_enabled: ${demotion}\n`;
  if (first.promoteRateLimitMBps !== null)
    out += `numa_balancing_promote_rate_limit_MBps: ${first.promoteRateLimitMBps}\n`;
  const names = BALANCING_COUNTERS.filter((n) => n in first.counters);
  const rows = names.map((n) => [
    n,
    String(first.counters[n] ?? 0),
    ...(delta ? [String(delta[n] ?? 0)] : []),
  ]);
  out +=
    '\n' +
    renderTable(
      [
        { header: 'counter', align: 'left' },
        { header: 'since boot', align: 'right' },
        ...(delta
          ? [{ header: `in ${Math.round((intervalMs ?? 0) / 1000)} s`, align: 'right' as const }]
          : []),
      ],
      rows,
    );
  io.out(out);
}
