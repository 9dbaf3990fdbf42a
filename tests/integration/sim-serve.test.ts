// `disagg-sim serve` as a user runs it: the built bundle on a chosen port prints both OpenAI endpoints,
// serves them, and Ctrl-C stops the whole stack (no port left open).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { refused } from './helpers/processes.js';
import { BUNDLE, ensureSimBundle } from './helpers/sim-bundle.js';

const MODEL = '/models/Serve-Test';
const dirs: string[] = [];

beforeAll(ensureSimBundle, 120_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A port that was free a moment ago (the OS picks it; we release it for the server to take). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = http.createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = a !== null && typeof a !== 'string' ? a.port : 0;
      s.close(() => done(port));
    });
  });
}

describe('disagg-sim serve', () => {
  it('--port chooses the router port; both endpoints are printed and served; SIGINT stops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'disagg-sim-serve-'));
    dirs.push(dir);
    const config = join(dir, 'cfg.yaml');
    writeFileSync(config, stringify({ environment: { model_path: MODEL }, simulator: { time_scale: 0.01 } }));
    const port = await freePort();
    const p = spawn(
      process.execPath,
      [BUNDLE, 'serve', '--config', config, '--dir', dir, '--port', String(port)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const hard = setTimeout(() => p.kill('SIGKILL'), 30_000);
    const exited = new Promise<number | null>((done) => p.once('exit', (code) => done(code)));
    try {
      let out = '';
      await new Promise<void>((ready, fail) => {
        p.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('Ctrl-C stops')) ready();
        });
        p.stderr.on('data', (c: Buffer) => (out += c.toString()));
        p.once('exit', () => fail(new Error(`serve exited early:\n${out}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      expect(out).toContain(`${base}/v1/completions\n`);
      expect(out).toContain(`${base}/v1/chat/completions\n`);
      const r = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }),
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { object: string }).object).toBe('chat.completion');
      expect((await fetch(`${base}/health_generate`)).status).toBe(200);
      p.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(await refused(port)).toBe(true);
    } finally {
      clearTimeout(hard);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
  }, 300_000);
});
