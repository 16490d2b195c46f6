import { probeCapabilities } from '../../engine/caps.js';
import { commonOptions, intOption, printJson, type Command } from '../io.js';
import { renderTable } from '../table.js';

export const capsCommand: Command = {
  usage:
    'usage: tierscope caps [--pid N] [--json]\n  --pid N   probe per-process sources (idle_pages, clear_refs) for this process\n',
  options: { ...commonOptions, pid: { type: 'string' } },
  async run(values, io) {
    const pid = intOption(values, 'pid', false);
    const caps = await probeCapabilities(pid === undefined ? {} : { pid });
    if (values['json'] === true) {
      printJson(io, caps);
      return;
    }
    io.out(
      `kernel ${caps.kernelRelease}; uid ${caps.uid} (euid ${caps.euid}); ` +
        `CAP_SYS_ADMIN ${yes(caps.capSysAdmin)}; CAP_SYS_NICE ${yes(caps.capSysNice)}; ` +
        `migrate other users' pages: ${yes(caps.canMigrateOthers)}\n`,
    );
    if (caps.damon) {
      io.out(`DAMON: ${caps.damon.kdamonds} kdamond(s), ${caps.damon.kdamondsRunning} running\n`);
    }
    io.out('\n');
    io.out(
      renderTable(
        [
          { header: 'source', align: 'left' },
          { header: 'usable', align: 'left' },
          { header: 'why', align: 'left' },
        ],
        caps.sources.map((s) => [s.id, yes(s.available), s.reason]),
      ),
    );
  },
};

function yes(b: boolean): string {
  return b ? 'yes' : 'no';
}
