import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

/** Each folder's layer: a module may import its own layer or a lower one, never a higher one. */
const LAYER: Record<string, number> = {
  'cli.ts': 6,
  commands: 5,
  run: 4,
  backends: 3,
  report: 3,
  compare: 3,
  sizing: 3,
  slurm: 3,
  onnx: 2,
  env: 2,
  results: 2,
  measure: 2,
  workloads: 2,
  files: 1,
  text: 1,
  'errors.ts': 1,
  types: 1,
};
/** Within layer 3, the one direction allowed: a report shows comparisons and sizings, never the reverse. */
const SIDEWAYS_ALLOWED = new Set(['report→compare', 'report→sizing']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'test') return [];
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const top = (file: string) => relative(SRC, file).split('/')[0];

describe('the modules layer one way', () => {
  it('cli → commands → run → {backends, report, compare, sizing} → {onnx, env, results, measure, workloads} → {files, text, errors}', () => {
    const wrong: string[] = [];
    for (const file of sources(SRC)) {
      const from = top(file);
      expect(LAYER[from], `${from} has no layer`).toBeDefined();
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
        const to = top(resolve(dirname(file), m[1]));
        if (to === from) continue;
        const up = LAYER[to] > LAYER[from];
        const sideways = LAYER[to] === LAYER[from] && LAYER[from] === 3 && !SIDEWAYS_ALLOWED.has(`${from}→${to}`);
        if (up || sideways) wrong.push(`${relative(ROOT, file)} imports ${m[1]}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('reading, comparing, merging, reporting and sizing result files loads no engine', () => {
    // a resolve hook records every module the child loads; the child imports the readers' modules from dist
    const dir = mkdtempSync(join(tmpdir(), 'moebench-layers-'));
    const log = join(dir, 'loaded.txt');
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`,
    );
    const modules = [
      'results/io',
      'results/runs',
      'results/merge',
      'compare/compare',
      'compare/format',
      'report/html',
      'report/table',
      'report/sizing',
      'sizing/measured',
      'commands/compare',
      'commands/merge',
      'commands/report',
      'commands/size',
    ];
    const script = `import { register } from 'node:module';
register(${JSON.stringify(`file://${join(dir, 'hooks.mjs')}`)});
${modules.map((m) => `await import(${JSON.stringify(`file://${join(ROOT, 'dist', 'src', `${m}.js`)}`)});`).join('\n')}`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    // the hook saw the readers themselves, so an empty list cannot pass for a clean one
    expect(loaded.some((u) => u.endsWith('/dist/src/commands/compare.js'))).toBe(true);
    expect(loaded.filter((u) => /onnxruntime|@tensorflow|\/node_modules\/webgpu\/|\/dist\/src\/(backends|run|onnx)\//.test(u))).toEqual([]);
  });
});
