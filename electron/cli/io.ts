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
  run(values: OptionValues, io: CliIo): Promise<void>;
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
