// Data flows one way: config → job → logs → results → verdict. This test reads every import of src/
// and fixtures/ and fails on an import cycle or on an import that reaches up to a later stage.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../fixtures/paths.js';

/** Stages in data-flow order; a module may import its own stage or an earlier one. */
const STAGES: Array<{ rank: number; paths: string[] }> = [
  { rank: 0, paths: ['src/util', 'src/errors.ts', 'src/types.ts', 'src/config-type.generated.ts'] },
  { rank: 1, paths: ['src/config'] },
  // The settings core knows the config layer's defaults (config dir, GPU type, placeholder variables).
  { rank: 1.5, paths: ['src/settings'] },
  { rank: 2, paths: ['src/jobdir'] },
  { rank: 3, paths: ['src/executors'] },
  { rank: 4, paths: ['src/broker'] },
  { rank: 5, paths: ['src/parsers'] },
  { rank: 6, paths: ['src/results'] },
  { rank: 7, paths: ['src/stats', 'src/progress'] },
  { rank: 8, paths: ['src/report'] },
  { rank: 9, paths: ['src/plugin', 'fixtures'] },
  { rank: 10, paths: ['src/cli'] },
  { rank: 11, paths: ['src/index.ts'] },
];
/** The simulator is a separate program (its own bundle): it may use the lowest stages only. */
const SIM = { path: 'src/sim', mayImport: 2 };

function stageOf(rel: string): { rank: number; name: string } | undefined {
  if (rel === SIM.path || rel.startsWith(`${SIM.path}/`)) return { rank: -1, name: SIM.path };
  for (const s of STAGES) {
    for (const p of s.paths) if (rel === p || rel.startsWith(`${p}/`)) return { rank: s.rank, name: p };
  }
  return undefined;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.ts$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Relative imports of a file, resolved to repo-relative .ts paths. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => path.relative(repoRoot, path.resolve(path.dirname(file), s)).replace(/\.js$/, '.ts'))
    .map((s) => (fs.existsSync(path.join(repoRoot, s)) ? s : s.replace(/\.ts$/, '/index.ts')));
}

const files = [...sourceFiles(path.join(repoRoot, 'src')), ...sourceFiles(path.join(repoRoot, 'fixtures'))];
const graph = new Map(files.map((f) => [path.relative(repoRoot, f), importsOf(f)]));

describe('import graph', () => {
  it('covers every source file with a stage', () => {
    const unknown = [...graph.keys()].filter((f) => !stageOf(f));
    expect(unknown, 'add the folder to STAGES in this test, in data-flow order').toEqual([]);
  });

  it('has no import that reaches up to a later stage', () => {
    const upward: string[] = [];
    for (const [from, targets] of graph) {
      const a = stageOf(from);
      for (const to of targets) {
        const b = stageOf(to);
        if (!a || !b) continue;
        const bad =
          a.rank === -1 ? (b.rank === -1 ? false : b.rank > SIM.mayImport) : b.rank === -1 || b.rank > a.rank;
        if (bad) upward.push(`${from} → ${to} (${a.name} may not import ${b.name})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycle', () => {
    // Tarjan's strongly connected components; any component of more than one file is a cycle.
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string): void => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!idx.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1) cycles.push(comp.sort());
      }
    };
    for (const v of graph.keys()) if (!idx.has(v)) visit(v);
    expect(cycles).toEqual([]);
  });
});
