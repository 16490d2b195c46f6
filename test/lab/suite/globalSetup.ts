// Runs once before the lab suite, in the guest: refuses to run anywhere else (it reconfigures the kernel),
// and turns automatic NUMA balancing off so the kernel does not move pages behind the tests' back.
// Nothing is restored afterwards: the guest is discarded when the command ends.
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export default function setup(): void {
  const bin = process.env.TIERSCOPE_LAB_BIN;
  if (process.env.TIERSCOPE_LAB !== '1' || !bin) {
    throw new Error(
      'the lab suite runs only inside the NUMA lab guest (it writes /proc/sys/kernel/numa_balancing and DAMON sysfs): ' +
        'test/lab/run npx vitest run --config test/lab/vitest.config.ts',
    );
  }
  accessSync(path.join(bin, 'memhog'), constants.X_OK);
  writeFileSync('/proc/sys/kernel/numa_balancing', '0');
  const now = readFileSync('/proc/sys/kernel/numa_balancing', 'utf8').trim();
  if (now !== '0') throw new Error(`could not turn NUMA balancing off: numa_balancing reads ${now}`);
}
