import { SshDestination, type AgentTarget } from '../contract/desktop.js';

/**
 * How the main process starts each kind of agent. argv only, never a shell. The GUI never runs as root:
 * elevation is a separate agent process that pkexec starts after polkit authentication.
 *
 * Mirrors electron/agent/commands.ts, which main may not import (main imports only the contract, so that
 * the engine and its native module never load into the window's process).
 */

/** The fixed helper the deb installs; assets/org.tierscope.agent.policy authorizes exactly this path. */
export const AGENT_HELPER_PATH = '/usr/lib/tierscope/tierscope-agent';

export interface AgentCommand {
  command: string;
  args: string[];
  /** Extra environment for the child (merged over the app's own). */
  env: Record<string, string>;
}

export interface AgentPaths {
  /** Electron's own binary: with ELECTRON_RUN_AS_NODE=1 it is a Node that can read app.asar. */
  execPath: string;
  /** dist/electron/cli/bin.js (inside app.asar when packaged). */
  cliEntry: string;
  /** Whether AGENT_HELPER_PATH exists (checked asynchronously by the caller: main never blocks). */
  helperInstalled: boolean;
}

export function agentCommand(target: AgentTarget, paths: AgentPaths): AgentCommand {
  switch (target.kind) {
    case 'local':
      return {
        command: paths.execPath,
        args: [paths.cliEntry, 'agent', '--stdio'],
        env: { ELECTRON_RUN_AS_NODE: '1' },
      };
    case 'elevated':
      // pkexec clears the environment, so ELECTRON_RUN_AS_NODE must travel in argv: through the installed
      // helper (its own polkit action), or else through env(1) under polkit's generic exec action
      // (administrator password every time; what a source checkout or an AppImage gets).
      return paths.helperInstalled
        ? { command: 'pkexec', args: [AGENT_HELPER_PATH], env: {} }
        : {
            command: 'pkexec',
            args: [
              '/usr/bin/env',
              'ELECTRON_RUN_AS_NODE=1',
              paths.execPath,
              paths.cliEntry,
              'agent',
              '--stdio',
            ],
            env: {},
          };
    case 'remote': {
      // Parsed again here: the renderer is not trusted to have validated it, and a destination starting
      // with '-' would be an ssh option.
      const destination = SshDestination.parse(target.destination);
      return {
        command: 'ssh',
        args: [
          '-T',
          '-o',
          'BatchMode=yes',
          '-o',
          'ServerAliveInterval=15',
          '-o',
          'ServerAliveCountMax=3',
          '--',
          destination,
          'tierscope',
          'agent',
          '--stdio',
        ],
        env: {},
      };
    }
  }
}

/**
 * Whether an agent that ended before answering was refused rather than broken: pkexec exits 126 when the
 * authentication dialog is dismissed and 127 when the user is not authorized (or no polkit agent runs).
 */
export function wasRefused(command: string, exitCode: number | null): boolean {
  return command === 'pkexec' && (exitCode === 126 || exitCode === 127);
}

/** One line saying why an agent process ended, in terms of what was run. */
export function exitReason(
  command: string,
  exitCode: number | null,
  signal: string | null,
  lastStderrLine: string | undefined,
): string {
  const detail = lastStderrLine ? `: ${lastStderrLine}` : '';
  const program = command.split('/').pop() ?? command;
  if (program === 'pkexec' && exitCode === 126) {
    return 'the authentication dialog was dismissed (pkexec exit 126).';
  }
  if (program === 'pkexec' && exitCode === 127) {
    return `not authorized, or no polkit authentication agent is running (pkexec exit 127)${detail}.`;
  }
  if (program === 'ssh' && exitCode === 255) {
    return `ssh could not connect or lost the connection${detail}. Check that \`ssh DEST\` logs in without a prompt.`;
  }
  if (program === 'ssh' && exitCode === 127) {
    return `the remote host has no tierscope command (ssh exit 127): install Tierscope there${detail}.`;
  }
  if (signal !== null) return `the agent was killed by ${signal}${detail}.`;
  if (exitCode === 0) return 'the agent exited.';
  return `the agent exited with code ${String(exitCode)}${detail}.`;
}
