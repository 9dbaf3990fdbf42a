// Debian's chromium, headless, driven by playwright-core (which never downloads a browser here).
// The flags keep it off the network: without them chromium phones home (updates, sync, QUIC probes).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface LaunchedBrowser {
  /** A persistent context on a fresh profile dir (playwright's way to pass --user-data-dir). */
  context: BrowserContext;
  close: () => Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium with \`bash scripts/ensure-chromium.sh\` ` +
        '(or `apt-get update && apt-get install -y chromium`); npm test does it before the tests',
    );
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
