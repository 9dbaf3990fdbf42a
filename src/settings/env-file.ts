// The DISAGG_ENV_FILE format: `KEY=VALUE` / `export KEY=VALUE` lines, as the original's env files.
import { SettingsError } from '../errors.js';
import { readRegularFileSync } from '../util/read-regular-file.js';

type Vars = Readonly<Record<string, string | undefined>>;

/** Parse `KEY=VALUE` / `export KEY=VALUE` lines; quotes stripped, `#` comments, `$VAR` expanded. */
export function parseEnvFile(text: string, base: Vars = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const expand = (v: string): string =>
    v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string, b: string) => {
      const name = a ?? b;
      return out[name] ?? base[name] ?? '';
    });
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, rest] = m;
    let value: string;
    if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      value = end > 0 ? rest.slice(1, end) : rest.slice(1);
    } else if (rest.startsWith('"')) {
      const end = rest.indexOf('"', 1);
      value = expand(end > 0 ? rest.slice(1, end) : rest.slice(1));
    } else {
      value = expand(rest.replace(/\s+#.*$/, '').trim());
    }
    out[key] = value;
  }
  return out;
}

/** Read an env file; a missing file is an error naming it (a typo must not silently drop values). */
export function readEnvFile(file: string, base: Vars = {}): Record<string, string> {
  let text: string;
  try {
    text = readRegularFileSync(file, { maxBytes: 16 * 1024 * 1024 }).toString('utf8');
  } catch (e) {
    throw new SettingsError(
      `Cannot read env file ${file} (DISAGG_ENV_FILE / envFile option): ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  return parseEnvFile(text, base);
}
