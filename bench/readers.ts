/**
 * npm run bench:readers [-- 1000,5000,20000] — how merge, compare and report grow with a lab's
 * collection. For each size, two result files of half the cases each (two hosts, the candidate 3%
 * slower) are built from a real result file's measured cases, with its sample counts, repeated
 * under new ids; then each command runs as a user would run it, under /usr/bin/time for its wall
 * time and peak memory. Prints a table. Never a test: timings vary by machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResultFile, serializeResultFile } from '../src/results/io.js';
import { isMeasured } from '../src/results/repetitions.js';
import { fmt, formatTable } from '../src/text/table.js';

const TEMPLATE = join(import.meta.dirname, '..', '..', 'results', '2026-11-23T17-01-12Z-vm-ort-cpu.json');
const CLI = join(import.meta.dirname, '..', 'src', 'cli.js');
const sizes = (process.argv[2] ?? '1000,5000,20000').split(',').map(Number);
const log = (s: string) => process.stderr.write(`${s}\n`);

const { integrity: _integrity, ...body } = readResultFile(TEMPLATE);
const template = body.cases.filter(isMeasured);

function hostFile(dir: string, host: string, cases: number, scale: number): string {
  const out = Array.from({ length: cases }, (_, k) => {
    const c = template[k % template.length];
    return {
      ...c,
      id: `${c.id}/copy${Math.floor(k / template.length)}`,
      samplesMs: c.samplesMs.map((x) => x * scale),
      summary: { ...c.summary, medianMs: c.summary.medianMs * scale },
    };
  });
  const path = join(dir, `${host}.json`);
  writeFileSync(path, serializeResultFile({ ...body, environment: { ...body.environment, host }, cases: out }));
  return path;
}

function timed(args: string[]): { seconds: number; peakMiB: number; ok: boolean } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, CLI, ...args], { encoding: 'utf8', maxBuffer: 1024 ** 3 });
  const [seconds, kib] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  if (r.status !== 0) log(`moebench ${args.join(' ')} exited ${r.status}: ${r.stderr.split('\n')[0]}`);
  return { seconds, peakMiB: kib / 1024, ok: r.status === 0 };
}

const rows = [['cases', 'files MB', 'command', 'seconds', 'peak MiB']];
for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-readers-'));
  log(`${n} cases: writing two files of ${n / 2} …`);
  const a = hostFile(dir, 'host-a', n / 2, 1);
  const b = hostFile(dir, 'host-b', n / 2, 1.03);
  const mb = ((statSync(a).size + statSync(b).size) / 1e6).toFixed(0);
  const all = join(dir, 'all.json');
  const commands: [string, string[]][] = [
    ['merge a b --out all', ['merge', a, b, '--out', all]],
    ['compare a b --by host', ['compare', a, b, '--by', 'host', '--format', 'json']],
    ['compare all --by host', ['compare', all, '--by', 'host', '--format', 'json']],
    ['report all --out r.html', ['report', all, '--out', join(dir, 'r.html')]],
  ];
  for (const [name, args] of commands) {
    log(`  ${name} …`);
    const t = timed(args);
    rows.push([String(n), mb, name, t.ok ? fmt(t.seconds, 3) : `failed after ${fmt(t.seconds, 3)}`, fmt(t.peakMiB, 4)]);
  }
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${formatTable(rows, [true, true, false, true, true])}\n`);
