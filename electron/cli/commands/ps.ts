import { listProcesses } from '../../engine/procfs/process.js';
import { commonOptions, printJson, type Command } from '../io.js';
import { formatMiB, renderTable } from '../table.js';

export const psCommand: Command = {
  usage: 'usage: tierscope ps [--all] [--user NAME] [--json]\n  --all   include kernel threads\n',
  options: { ...commonOptions, all: { type: 'boolean' }, user: { type: 'string' } },
  async run(values, io) {
    const user = typeof values['user'] === 'string' ? values['user'] : undefined;
    const procs = (await listProcesses())
      .filter((p) => values['all'] === true || p.hasUserMemory)
      .filter((p) => user === undefined || p.user === user)
      .sort((a, b) => b.rssBytes - a.rssBytes || a.pid - b.pid);
    if (values['json'] === true) {
      printJson(io, procs);
      return;
    }
    io.out(
      renderTable(
        [
          { header: 'pid', align: 'right' },
          { header: 'user', align: 'left' },
          { header: 'RSS MiB', align: 'right' },
          { header: 'started', align: 'left' },
          { header: 'command', align: 'left' },
        ],
        procs.map((p) => [
          String(p.pid),
          p.user,
          formatMiB(p.rssBytes),
          p.startTime.replace('T', ' ').slice(0, 19),
          (p.cmdline || `[${p.comm}]`).slice(0, 80),
        ]),
      ),
    );
  },
};
