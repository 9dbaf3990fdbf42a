#!/usr/bin/env node
// The `disagg` command. Runs the built CLI (dist/, made by `npm run build`, which `npm ci` runs).
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  stderrIsTTY: process.stderr.isTTY === true,
});
process.exitCode = code;
