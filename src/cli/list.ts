// `disagg list [--json] [--config-dir D] [--config F]`: every config with its test name, file, type,
// category, tags and skip reason (GPU_TYPE; DISAGG_TEST_LIST marks unlisted configs as not selected).
import { gateConfigProblems } from '../stats/gate-config.js';
import path from 'node:path';
import {
  applyTestList,
  errorsOf,
  loadAll,
  pytestNodeId,
  readTestList,
  tagsFor,
  warningsOf,
} from '../config/index.js';
import { parseCommandArgs, type CliCommand } from './io.js';
import { cliSettings } from './project-options.js';

export const usage =
  'usage: disagg list [--json] [--config-dir <dir>] [--config <vitest config file>]\n' +
  '  configDir, GPU type and test list as `npx vitest` sees them (disagg() options, env, DISAGG_ENV_FILE)';

export interface ListRow {
  name: string;
  file: string;
  testType: string;
  category: string;
  tags: string[];
  skipReason: string | null;
  /** False when DISAGG_TEST_LIST is set and does not name this config. */
  selected: boolean;
  errors: number;
  warnings: number;
  nodeId: string;
}

export const run: CliCommand = async (argv, io) => {
  const { values } = parseCommandArgs(argv, usage, {
    json: { type: 'boolean' },
    'config-dir': { type: 'string' },
    config: { type: 'string' },
  });
  const settings = await cliSettings(io, { config: values.config, configDir: values['config-dir'] });
  const configDir = settings.configDir;
  const { configs, notices } = loadAll(configDir, {
    vars: settings.placeholderVars,
    gpuType: settings.gpuType,
    strict: settings.strict,
    limits: settings.configLimits,
    cwd: io.cwd,
    extraChecks: (input) => gateConfigProblems(input, settings.gates),
  });

  let listed: Set<string> | undefined;
  let unmatched: string[] = [];
  const listFile = settings.testList;
  if (listFile) {
    const r = applyTestList(configs, readTestList(listFile));
    listed = new Set(r.selected.map((c) => c.testId));
    unmatched = r.unmatched;
  }

  const rows: ListRow[] = configs.map((c) => ({
    name: c.testId,
    file: path.relative(io.cwd, c.file) || c.file,
    testType: c.testType,
    category: c.category,
    tags: tagsFor(c),
    skipReason: c.skipReason ?? null,
    selected: listed ? listed.has(c.testId) : true,
    errors: errorsOf(c.problems).length,
    warnings: warningsOf(c.problems).length,
    nodeId: pytestNodeId(c),
  }));

  if (values.json) {
    io.stdout(`${JSON.stringify({ configDir, configs: rows, notices, unmatched }, null, 2)}\n`);
    return 0;
  }
  for (const n of notices) io.stderr(`note: ${n}\n`);
  for (const u of unmatched) io.stderr(`note: ${listFile}: no config matches ${u}\n`);
  if (rows.length === 0) {
    io.stdout(`no configs found in ${configDir}\n`);
    return 0;
  }
  for (const r of rows) {
    const status = [
      r.skipReason ? `skipped: ${r.skipReason}` : '',
      r.selected ? '' : 'not in test list',
      r.errors ? `${r.errors} error(s)` : '',
      r.warnings ? `${r.warnings} warning(s)` : '',
    ].filter(Boolean);
    io.stdout(
      `${r.name}\n  file: ${r.file}\n  type: ${r.testType}  category: ${r.category}  tags: ${r.tags.join(', ')}\n`,
    );
    if (status.length) io.stdout(`  ${status.join('; ')}\n`);
  }
  const skipped = rows.filter((r) => r.skipReason).length;
  io.stdout(`\n${rows.length} config(s) in ${configDir}${skipped ? `, ${skipped} skipped` : ''}\n`);
  return 0;
};
