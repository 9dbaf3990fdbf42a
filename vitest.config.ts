import { defineConfig } from 'vitest/config';
import { disagg } from './src/plugin/index.js';

// The stress suite: every YAML under stress-configs/ is a test (run: npx vitest run -t stress).
// Our own unit and integration tests live in vitest.unit.config.ts (npm test).
export default defineConfig({
  plugins: [disagg({ configDir: 'stress-configs' })],
  // The root project runs none of this repo's own tests (the YAML tests are the plugin's `disagg` project).
  test: { include: [] },
});
