// The config type is derived from the JSON Schema (one source of truth): this writes
// src/config-type.generated.ts from schema/disagg-config.schema.json. Run it after editing the
// schema (`npm run gen:config-type`); tests/unit/config/config-type.test.ts fails while the file is stale.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';
import prettier from 'prettier';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA = path.join(root, 'schema/disagg-config.schema.json');
export const OUTPUT = path.join(root, 'src/config-type.generated.ts');

const BANNER =
  '// Generated from schema/disagg-config.schema.json by scripts/gen-config-type.mjs: do not edit.\n' +
  '// The config type of the code (DisaggConfig in src/types.ts) is derived from this.\n';

/** The generated module's text, formatted with the project's Prettier settings. */
export async function generate() {
  const schema = JSON.parse(fs.readFileSync(SCHEMA, 'utf8'));
  const ts = await compile(schema, 'DisaggConfigSchema', {
    bannerComment: BANNER,
    // Unknown keys are warnings (errors under strict), so objects stay open where the schema allows it.
    unknownAny: true,
    ignoreMinAndMaxItems: true,
    format: false,
  });
  const options = (await prettier.resolveConfig(OUTPUT)) ?? {};
  return prettier.format(ts, { ...options, filepath: OUTPUT });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.writeFileSync(OUTPUT, await generate());
  console.log(`wrote ${path.relative(root, OUTPUT)}`);
}
