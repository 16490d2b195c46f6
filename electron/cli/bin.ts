// Process entry of the `tierscope` command: wires run() to the real stdout/stderr and exit code.
import { run } from './main.js';

const code = await run(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
process.exitCode = code;
