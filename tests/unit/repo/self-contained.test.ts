// The repo must work as a bare clone: no file may read, or send a reader to, the reference folder that
// sat next to the repo during development (its data now lives in tests/fixtures, see */SOURCE.md).
// Every searched string is built by concatenation so this file does not match itself.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath, repoRoot } from '../../fixtures/paths.js';

const FOLDER = 'sha' + 'red';
/** Plain substrings that only a reference to that folder contains. */
const NEEDLES = [
  '../' + FOLDER,
  '..\\' + FOLDER,
  '/work/' + FOLDER,
  ...['reference', 'samples', 'trtllm', 'hooks'].map((sub) => `${FOLDER}/${sub}`),
];
/** A path built from parts: a '..' argument followed by the folder name. */
const JOINED = new RegExp(`['"]\\.\\.['"]\\s*,\\s*['"]${FOLDER}['"]`);
/** The folder's documents, which a bare clone does not have (unless the repo gains a file of that name). */
const FOREIGN_DOCS = [
  'log-formats',
  'local-slurm-and-sshd',
  'trtllm-disagg-framework',
  'vitest-4.1-notes',
  'peers-and-user-requests',
  'slurm-pending-reasons',
].map((name) => name + '.md');

/** Folders a directory walk skips: build output and installed or generated state, never tracked. */
const UNTRACKED_DIRS = new Set([
  '.git',
  'node_modules',
  'dist',
  'output',
  'coverage',
  '.local-cluster',
  '.vitest-attachments',
]);

/** Tracked (and new, not ignored) files; a directory walk when git or the .git folder is absent. */
function repoFiles(): { files: string[]; via: string } {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: repoRoot,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const files = out.split('\0').filter((f) => f && existsSync(path.join(repoRoot, f)));
    if (files.length > 0) return { files, via: 'git ls-files' };
  } catch {
    // No git binary or not a work tree (e.g. an unpacked tarball): walk the folder instead.
  }
  const files: string[] = [];
  const walk = (rel: string, depth: number): void => {
    if (depth > 30) throw new Error(`folder nesting deeper than 30 at ${rel}`);
    for (const entry of readdirSync(path.join(repoRoot, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!UNTRACKED_DIRS.has(entry.name)) walk(child, depth + 1);
      } else if (entry.isFile()) files.push(child);
    }
  };
  walk('', 0);
  return { files, via: 'directory walk' };
}

interface Finding {
  line: number;
  text: string;
}

/** Lines of `text` that point at the reference folder; `localDocs` are doc names the repo itself has. */
function findFolderRefs(text: string, localDocs: ReadonlySet<string> = new Set()): Finding[] {
  const docs = FOREIGN_DOCS.filter((d) => !localDocs.has(d));
  const found: Finding[] = [];
  text.split('\n').forEach((line, i) => {
    if (NEEDLES.some((n) => line.includes(n)) || JOINED.test(line) || docs.some((d) => line.includes(d))) {
      found.push({ line: i + 1, text: line.trim().slice(0, 160) });
    }
  });
  return found;
}

describe('the repo is self-contained', () => {
  it('the check itself catches each form of reference', () => {
    const bad = [
      `const dir = path.resolve(root, '../${FOLDER}');`,
      `path.join(repoRoot, '..', '${FOLDER}', 'x')`,
      `// see ${FOLDER}/reference/${FOREIGN_DOCS[0]} §5`,
      `readFileSync('/work/${FOLDER}/samples/a.txt')`,
      `(${FOREIGN_DOCS[1]} §8)`,
    ];
    expect(findFolderRefs(['ok line', ...bad, `a ${FOLDER} cluster`].join('\n')).map((f) => f.line)).toEqual([
      2, 3, 4, 5, 6,
    ]);
    // A doc of that name that the repo does have may be cited.
    expect(findFolderRefs(`see ${FOREIGN_DOCS[0]}`, new Set([FOREIGN_DOCS[0]]))).toEqual([]);
  });

  it('no file of the repo reads or cites the reference folder next to it', () => {
    const { files, via } = repoFiles();
    expect(files.length, `no files found via ${via}`).toBeGreaterThan(50);
    expect(files).toContain('tests/unit/repo/self-contained.test.ts');
    const localDocs = new Set(files.map((f) => path.basename(f)));
    const problems: string[] = [];
    for (const rel of files) {
      const abs = path.join(repoRoot, rel);
      if (statSync(abs).size > 32 * 1024 * 1024) continue; // no text file of ours is this large
      const buf = readFileSync(abs);
      if (buf.subarray(0, 8000).includes(0)) continue; // binary
      for (const f of findFolderRefs(buf.toString('utf8'), localDocs)) {
        problems.push(`${rel}:${f.line}: ${f.text}`);
      }
    }
    expect(problems, `files that point outside the repo (found via ${via}):\n${problems.join('\n')}`).toEqual(
      [],
    );
  });

  it('the copied upstream data is in the repo with its SOURCE.md (origin, licence)', () => {
    for (const dir of ['trtllm', 'samples']) {
      const source = readFileSync(fixturePath(dir, 'SOURCE.md'), 'utf8');
      expect(source, `tests/fixtures/${dir}/SOURCE.md`).toMatch(/licen[cs]e/i);
      expect(source, `tests/fixtures/${dir}/SOURCE.md`).toMatch(/github\.com|NVIDIA\/TensorRT-LLM/);
    }
    fixturePath('trtllm', 'test_configs', 'disagg', 'stress');
    fixturePath('trtllm', 'testlist', 'disagg.txt');
    fixturePath('trtllm', 'perf_script_test_results.csv');
  });
});
