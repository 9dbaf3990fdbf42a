#!/usr/bin/env node
// The `disagg` command. Runs the built CLI (dist/, made by `npm run build`, which `npm ci` runs).
import { processIO } from '../dist/src/cli/io.js';
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv.slice(2), processIO());
process.exitCode = code;
