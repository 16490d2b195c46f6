// Process entry of the `tierscope` command: wires run() to the real stdout/stderr and exit code.
import { run } from './main.js';

// `tierscope export … | head`: the reader leaving early is not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const code = await run(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
process.exitCode = code;
