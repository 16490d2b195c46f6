import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TierscopeError } from '../engine/errors.js';

/**
 * argv builders for the ways a UI starts an agent; spawnAgent(argv[0], argv.slice(1)) runs them without
 * a shell. The GUI itself never runs as root: privileged capture is a separate agent process that pkexec
 * starts after polkit authentication, speaking the same protocol over its stdin/stdout.
 */

/** The polkit action of assets/org.tierscope.agent.policy: authorizes running the agent helper as root. */
export const POLKIT_ACTION_ID = 'org.tierscope.agent';

/**
 * Where packages install the privileged agent helper: a fixed program that runs `tierscope agent --stdio`
 * and nothing else (the policy's exec.path names it, so authorizing it never authorizes other commands).
 */
export const AGENT_HELPER_PATH = '/usr/lib/tierscope/tierscope-agent';

export interface LocalAgentOptions {
  /**
   * The Node binary. Default process.execPath, which inside Electron is Electron itself: the main process
   * then spawns with ELECTRON_RUN_AS_NODE=1 in the environment (or passes a node path here).
   */
  node?: string;
  /** The compiled CLI entry (dist/electron/cli/bin.js). Default: found next to this module. */
  cliEntry?: string;
}

/**
 * The compiled CLI entry: next to this module in dist/, or the repository's dist/ when run from source.
 * The one-file bundle beside it (dist/bundle/bin.js, scripts/bundle-cli.mjs) starts twice as fast and is
 * preferred unless a later `tsc` left it older than the modules — the rule scripts/tierscope.mjs follows.
 */
export function cliEntryPath(): string {
  const candidates = [
    new URL('../cli/bin.js', import.meta.url), // dist/electron/agent → dist/electron/cli/bin.js
    new URL('../../dist/electron/cli/bin.js', import.meta.url), // electron/agent (source, via tsx)
  ];
  for (const candidate of candidates) {
    const file = fileURLToPath(candidate);
    if (!existsSync(file)) continue;
    const bundle = path.resolve(path.dirname(file), '../../bundle/bin.js');
    return existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(file).mtimeMs ? bundle : file;
  }
  throw new TierscopeError(
    'not-found',
    `the compiled tierscope CLI is missing (looked for ${candidates.map((c) => fileURLToPath(c)).join(' and ')}): run \`npm run build\``,
  );
}

/** `tierscope agent --stdio` as the current user: the default, unprivileged agent. */
export function localAgentCommand(options: LocalAgentOptions = {}): string[] {
  return [options.node ?? process.execPath, options.cliEntry ?? cliEntryPath(), 'agent', '--stdio'];
}

export interface PkexecAgentOptions extends LocalAgentOptions {
  /** The installed helper (default AGENT_HELPER_PATH). */
  helper?: string;
}

/**
 * The privileged agent through pkexec. With the installed helper, polkit applies POLKIT_ACTION_ID
 * (administrator authentication, remembered briefly). Without it (running from a source checkout) the
 * local agent command itself goes to pkexec, which then asks under polkit's generic
 * org.freedesktop.policykit.exec action: works, with an administrator password each time. pkexec clears
 * the environment, so inside a packaged Electron app only the helper works (ELECTRON_RUN_AS_NODE would
 * not survive). pkexec exit 126 (dialog dismissed) and 127 (not authorized) are turned into one-line
 * reasons by spawnAgent.
 */
export function pkexecAgentCommand(options: PkexecAgentOptions = {}): string[] {
  const helper = options.helper ?? AGENT_HELPER_PATH;
  if (options.helper !== undefined || existsSync(helper)) return ['pkexec', helper];
  return ['pkexec', ...localAgentCommand(options)];
}

export interface SshAgentOptions {
  /** ssh port (default: ssh's own, usually 22 or from ~/.ssh/config). */
  port?: number;
  /** The remote tierscope command (default `tierscope`, found in the remote PATH). */
  remoteCommand?: string;
}

/** ssh host names as ssh_config accepts them; user@ allowed; never starting with '-'. */
const SSH_DESTINATION = /^(?:[A-Za-z0-9._-]+@)?(?:[A-Za-z0-9_][A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\])$/;

/**
 * `ssh host tierscope agent --stdio`: an agent on a remote server. BatchMode: no password prompt (there
 * is no terminal to type it in; use keys or an ssh-agent), -T: no pseudo-terminal, so the protocol stream
 * is byte-exact; keepalives turn a dead link into a disconnect within about 45 s.
 */
export function sshAgentCommand(host: string, options: SshAgentOptions = {}): string[] {
  if (!SSH_DESTINATION.test(host)) {
    throw new TierscopeError(
      'invalid-argument',
      `not an ssh destination: ${JSON.stringify(host.slice(0, 100))} (expected host or user@host)`,
    );
  }
  const remote = options.remoteCommand ?? 'tierscope';
  if (!/^[A-Za-z0-9_./-]+$/.test(remote)) {
    throw new TierscopeError(
      'invalid-argument',
      `the remote tierscope command must be a plain path, got ${JSON.stringify(remote.slice(0, 100))}`,
    );
  }
  const port = options.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) {
    throw new TierscopeError('invalid-argument', `not a TCP port: ${String(port)}`);
  }
  return [
    'ssh',
    '-T',
    '-o',
    'BatchMode=yes',
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=3',
    ...(port !== undefined ? ['-p', String(port)] : []),
    '--',
    host,
    remote,
    'agent',
    '--stdio',
  ];
}
