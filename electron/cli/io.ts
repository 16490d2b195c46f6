import type { ParseArgsConfig } from 'node:util';

/** Output sinks, injected so tests run commands in-process and read what a user would see. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Positional arguments the command takes (none when absent). */
  positionals?: { min: number; max: number; names: string };
  run(values: OptionValues, io: CliIo, positionals: readonly string[]): Promise<void>;
}

/** Bad flags or arguments: exit code 2 with the command's usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const commonOptions = {
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export function intOption(values: OptionValues, name: string, required: true): number;
export function intOption(values: OptionValues, name: string, required: false): number | undefined;
export function intOption(values: OptionValues, name: string, required: boolean): number | undefined {
  const raw = values[name];
  if (raw === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`--${name} expects a non-negative integer, got '${String(raw)}'`);
  }
  return Number(raw);
}

export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2) + '\n');
}

/** "500ms", "1s", "2.5s", "10m", "1h", or a bare number of seconds → milliseconds. */
export function durationOption(values: OptionValues, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const m = typeof raw === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw) : null;
  if (!m?.[1])
    throw new UsageError(`--${name} expects a duration like 500ms, 1s, 10m or 1h, got '${String(raw)}'`);
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000;
  return Math.round(Number(m[1]) * scale);
}

export function stringOption(values: OptionValues, name: string, required: true): string;
export function stringOption(values: OptionValues, name: string, required: false): string | undefined;
export function stringOption(values: OptionValues, name: string, required: boolean): string | undefined {
  const raw = values[name];
  if (raw === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (typeof raw !== 'string' || raw === '') throw new UsageError(`--${name} expects a value`);
  return raw;
}

export function choiceOption<T extends string>(
  values: OptionValues,
  name: string,
  choices: readonly T[],
): T | undefined {
  const raw = stringOption(values, name, false);
  if (raw === undefined) return undefined;
  const found = choices.find((c) => c === raw);
  if (found === undefined)
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${raw}'`);
  return found;
}
