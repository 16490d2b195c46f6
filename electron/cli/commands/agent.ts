import { serveLines } from '../../agent/lines.js';
import { UsageError, type Command } from '../io.js';
import { VERSION } from '../version.js';

export const agentCommand: Command = {
  usage:
    'usage: tierscope agent --stdio\n' +
    '  Serves the agent protocol on stdin/stdout, one JSON message per line: what the desktop app,\n' +
    '  pkexec (privileged capture) and `ssh HOST tierscope agent --stdio` (remote) talk to.\n' +
    '  Logs go to stderr only. Ends when stdin closes; commands it launched are then terminated.\n',
  options: { stdio: { type: 'boolean' }, help: { type: 'boolean' } },
  async run(values, io) {
    if (values['stdio'] !== true)
      throw new UsageError('--stdio is required (the only transport of the agent)');
    const log = (line: string): void => {
      io.err(`tierscope agent[${process.pid}]: ${line}\n`);
    };
    // stdout is the protocol stream: nothing else may ever be written to it (io.out is not used here).
    const connection = serveLines(process.stdin, process.stdout, { agentVersion: VERSION, log });
    const stop = (): void => {
      connection.close();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    log(`serving protocol on stdio (uid ${process.getuid?.() ?? '?'})`);
    try {
      await connection.closed;
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    }
  },
};
