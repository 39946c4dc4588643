/**
 * npm run bench:engines [OUT.json] — two runs through every available backend on this machine
 * (`moebench run --backend all-available`), each shown as one table: tokens/sec per engine and, in
 * brackets, the ratio to the fastest.
 *  1. the default suite's dense and MoE cases (OUT.json);
 *  2. the peers beside the engines: the dense SwiGLU layer, small preset, prefill of 1,024 tokens,
 *     fp32, with the peers' pinned venv (npm run setup:peers) when it is there (OUT-peers.json).
 * Set VK_ICD_FILENAMES (scripts/setup-lavapipe.sh --env) to include the WebGPU engines on a CPU.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineTable } from '../src/report/engines.js';
import { readResultFile } from '../src/results/io.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'src', 'cli.js');
const venv = join(here, '..', '..', '.cache', 'peers-venv', 'bin', 'python');
const out = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'moebench-engines-')), 'engines.json');
const peersOut = out.replace(/\.json$/, '') + '-peers.json';

function run(args: string[], file: string): number {
  const r = spawnSync(process.execPath, [cli, 'run', ...args, '--backend', 'all-available', '--out', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const result = readResultFile(file);
  process.stdout.write(`${result.run.device}\n\n${engineTable(result.cases)}\n\nresult file: ${file}\n`);
  const notes = result.cases.filter((c) => c.status !== 'ok').map((c) => `  ${c.backend} ${c.id}: ${c.status}${c.error ? ` (${c.error})` : ''}`);
  if (notes.length) process.stdout.write(`\nnot measured or noisy:\n${notes.join('\n')}\n`);
  return r.status ?? 1;
}

const suite = run(['--suite', 'default'], out);
process.stdout.write('\n');
const peers = run(
  [
    '--preset',
    'small',
    '--layer',
    'dense',
    '--phase',
    'prefill',
    '--tokens',
    '1024',
    '--dtype',
    'fp32',
    ...(existsSync(venv) ? ['--python', venv] : []),
  ],
  peersOut,
);
process.exitCode = suite || peers;
