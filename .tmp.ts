import { validateFiles, formatProblem, loadAll } from './src/config/index.js';
const r = validateFiles(['tests/fixtures/configs/invalid', 'tests/fixtures/configs/tree'], { env: {} });
console.log(r.notices);
for (const c of r.configs) { console.log(c.testId, c.skipReason ?? ''); for (const p of c.problems) console.log('  ' + formatProblem(p, process.cwd())); }
console.log(JSON.stringify(loadAll('tests/fixtures/configs/tree').configs.find(c=>c.stem==='anchors')?.config.worker_config));
