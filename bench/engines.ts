/**
 * npm run bench:engines — the default suite's dense and MoE cases through every
 * available backend on this machine in one run (`moebench run --backend all-available`),
 * shown as one table: tokens/sec per engine and, in brackets, the ratio to the fastest.
 * Set VK_ICD_FILENAMES (scripts/setup-lavapipe.sh --env) to include the WebGPU engines on a CPU.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineTable } from '../src/report/engines.js';
import { readResultFile } from '../src/results/io.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.js');
const out = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'moebench-engines-')), 'engines.json');
const r = spawnSync(process.execPath, [cli, 'run', '--suite', 'default', '--backend', 'all-available', '--out', out], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const file = readResultFile(out);
process.stdout.write(`${file.run.device}\n\n${engineTable(file.cases)}\n\nresult file: ${out}\n`);
const notes = file.cases.filter((c) => c.status !== 'ok').map((c) => `  ${c.backend} ${c.id}: ${c.status}${c.error ? ` (${c.error})` : ''}`);
if (notes.length) process.stdout.write(`\nnot measured or noisy:\n${notes.join('\n')}\n`);
process.exitCode = r.status ?? 1;
