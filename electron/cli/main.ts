import { parseArgs } from 'node:util';
import { TierscopeError } from '../engine/errors.js';
import { NumaSyscallError } from '../../native-bridge/index.js';
import { topologyCommand } from './commands/topology.js';
import { psCommand } from './commands/ps.js';
import { capsCommand } from './commands/caps.js';
import { snapshotCommand } from './commands/snapshot.js';
import { recordCommand } from './commands/record.js';
import { reportCommand } from './commands/report.js';
import { exportCommand } from './commands/export.js';
import { agentCommand } from './commands/agent.js';
import { uiCommand } from './commands/ui.js';
import { migrateCommand } from './commands/migrate.js';
import { rebindCommand } from './commands/rebind.js';
import { balancingCommand } from './commands/balancing.js';
import type { CliIo, Command } from './io.js';
import { UsageError } from './io.js';

const COMMANDS: Record<string, Command> = {
  topology: topologyCommand,
  ps: psCommand,
  caps: capsCommand,
  snapshot: snapshotCommand,
  record: recordCommand,
  report: reportCommand,
  export: exportCommand,
  agent: agentCommand,
  ui: uiCommand,
  migrate: migrateCommand,
  rebind: rebindCommand,
  balancing: balancingCommand,
};

const USAGE = `usage: tierscope <command> [options]

commands:
  topology              NUMA nodes, CPUs, memory, distances, memory tiers, balancing mode
  ps                    processes with user memory: pid, user, RSS, start time
  caps [--pid N]        which access sources this machine and user can use, and why
  snapshot --pid N      per-VMA pages per node of a process (numastat -p, per VMA)
  record --pid N --out FILE
                        record access hotness and residency over time into a session
  report FILE           hot/warm/cold bytes per VMA and node, misplacement, hot and cold ranges
  export FILE --format json|csv|perfetto
                        the session for other tools
  ui [--port P] [--pid N | --session FILE] [--no-open]
                        browser mode: the UI and an agent on 127.0.0.1, behind a token URL
  agent --stdio         the agent protocol on stdin/stdout (for the app, pkexec and ssh)
  migrate --pid N (--vma A | --range A-B | --hot | --cold | --top-k K | --all) --to NODE
                        move pages (promote/demote) as an experiment: batched, rate-limited, verified
  rebind --pid N --range A-B --to NODE --lazy
                        move each page of a range when it is next touched (migrate-on-touch)
  balancing             kernel NUMA balancing and demotion: mode and counters; --yes to change them

common options:
  --json                machine-readable output
  --help                this text
`;

/** Runs one CLI invocation; returns the exit code (0 ok, 1 a named failure, 2 bad usage). */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`tierscope: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: command.options,
      strict: true,
      allowPositionals: command.positionals !== undefined,
    });
    if (values['help'] === true) {
      io.out(command.usage);
      return 0;
    }
    const want = command.positionals;
    if (want && (positionals.length < want.min || positionals.length > want.max)) {
      throw new UsageError(`expects ${want.names}`);
    }
    await command.run(values, io, positionals);
    return 0;
  } catch (err) {
    return reportError(err, name, command.usage, io);
  }
}

function reportError(err: unknown, name: string, usage: string, io: CliIo): number {
  if (err instanceof UsageError || isParseArgsError(err)) {
    io.err(`tierscope ${name}: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (err instanceof TierscopeError || err instanceof NumaSyscallError) {
    io.err(`tierscope ${name}: ${err.message}\n`);
    return 1;
  }
  // A bug, not a user error: still one line by default; the stack only on request.
  const detail = process.env['TIERSCOPE_DEBUG'] ? `\n${(err as Error).stack ?? String(err)}` : '';
  io.err(`tierscope ${name}: internal error: ${String(err)} (set TIERSCOPE_DEBUG=1 for details)${detail}\n`);
  return 70;
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
