// `disagg validate [paths…] [--json] [--strict] [--config-dir D] [--config F]`: one line per problem
// `file:line:col path: message`; exit 1 on any error, 0 when there are only warnings.
import { gateConfigProblems } from '../stats/gate-config.js';
import { displayFile, errorsOf, formatProblem, validateFiles, warningsOf } from '../config/index.js';
import { parseCommandArgs, type CliCommand } from './io.js';
import { cliSettings } from './project-options.js';

export const usage =
  'usage: disagg validate [file or dir …] [--json] [--strict] [--config-dir <dir>] [--config <vitest config file>]\n' +
  '  --strict (or DISAGG_STRICT=1, or the strict option): over-concurrency and unknown keys are errors';

export const run: CliCommand = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    usage,
    {
      json: { type: 'boolean' },
      strict: { type: 'boolean' },
      'config-dir': { type: 'string' },
      config: { type: 'string' },
    },
    true,
  );
  const settings = await cliSettings(io, {
    config: values.config,
    configDir: values['config-dir'],
    strict: values.strict,
  });
  const paths = positionals.length > 0 ? positionals : [settings.configDir];
  const { configs, notices, missing } = validateFiles(paths, {
    vars: settings.placeholderVars,
    gpuType: settings.gpuType,
    strict: settings.strict,
    limits: settings.configLimits,
    cwd: io.cwd,
    extraChecks: (input) => gateConfigProblems(input, settings.gates),
  });
  const problems = configs.flatMap((c) => c.problems);
  const errors = errorsOf(problems).length;
  const warnings = warningsOf(problems).length;
  const failed = errors > 0 || missing.length > 0;

  if (values.json) {
    const files = configs.map((c) => ({
      file: displayFile(c.file, io.cwd),
      testId: c.testId,
      valid: errorsOf(c.problems).length === 0,
      problems: c.problems.map((p) => ({ ...p, file: displayFile(p.file, io.cwd) })),
    }));
    io.stdout(
      `${JSON.stringify({ valid: !failed, strict: settings.strict, errors, warnings, files, missing, notices }, null, 2)}\n`,
    );
    return failed ? 1 : 0;
  }
  for (const n of notices) io.stderr(`note: ${n}\n`);
  for (const m of missing) io.stderr(`${m}: no such file or directory\n`);
  for (const p of problems) io.stdout(`${formatProblem(p, io.cwd)}\n`);
  const bad = configs.filter((c) => errorsOf(c.problems).length > 0).length;
  io.stderr(
    `${configs.length} config(s) checked: ${bad} invalid, ${errors} error(s), ${warnings} warning(s)` +
      `${missing.length ? `, ${missing.length} path(s) not found` : ''}\n`,
  );
  return failed ? 1 : 0;
};
