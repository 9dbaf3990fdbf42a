// The config type is generated from the JSON Schema: the committed file must be what the schema gives
// today, or a schema edit without `npm run gen:config-type` would leave the code's type behind.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { generate, OUTPUT } from '../../../scripts/gen-config-type.mjs';

describe('config type', () => {
  it('src/config-type.generated.ts is up to date with schema/disagg-config.schema.json', async () => {
    const expected = (await generate()) as string;
    expect(
      fs.readFileSync(OUTPUT as string, 'utf8') === expected,
      'stale: run `npm run gen:config-type` after editing the schema',
    ).toBe(true);
  });
});
