/**
 * npm run bench:repeat [-- --repetitions N] — five separate `moebench run` processes on one
 * stable case (small dense layer, 256 prefill tokens, ORT CPU EP, one intra-op thread). Each run
 * reports its median with a 95% interval; repeatable measurement means the medians fall within
 * each other's intervals. With --repetitions N (default 3) each run measures the case in N worker
 * processes, so its interval covers the drift between processes; --repetitions 1 shows what one
 * process's interval covers on its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processMediansMs } from '../src/results/repetitions.js';
import { readResultFile } from '../src/results/io.js';
import { COMPARE_DEFAULTS, verdictOf } from '../src/compare/compare.js';
import { processLevelRatio } from '../src/compare/stats.js';
import { fmt, formatTable } from '../src/text/table.js';

const RUNS = 5;
const at = process.argv.indexOf('--repetitions');
const REPETITIONS = at > 0 ? Number(process.argv[at + 1]) : 3;
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'moebench-repeat-'));
// One intra-op thread: on a 2-vCPU VM two threads wait for each other at every GEMM barrier,
// so whichever vCPU the host is slowing sets the pace and the case is far less stable.
const args = [
  'run',
  '--backend',
  'ort-cpu',
  '--preset',
  'small',
  '--layer',
  'dense',
  '--phase',
  'prefill',
  '--tokens',
  '256',
  '--threads',
  '1',
  '--model-dir',
  join(dir, 'models'),
  '--repetitions',
  String(REPETITIONS),
];

const runs = [];
for (let i = 0; i < RUNS; i++) {
  process.stderr.write(`bench:repeat: run ${i + 1}/${RUNS}\n`);
  const out = join(dir, `run${i}.json`);
  const r = spawnSync(process.execPath, [cli, ...args, '--out', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`run ${i + 1} failed: ${r.stderr}`);
  const [c] = readResultFile(out).cases;
  runs.push({
    medianMs: c.summary!.medianMs,
    ci: c.summary!.medianCi95Ms,
    status: c.status,
    repMediansMs: processMediansMs(c),
    device: c.device,
    id: c.id,
  });
}

const medians = runs.map((r) => r.medianMs);
const spread = (Math.max(...medians) - Math.min(...medians)) / Math.min(...medians);
let inside = 0;
let overlapping = 0;
let pairs = 0;
for (const a of runs) {
  for (const b of runs) {
    if (a === b) continue;
    pairs++;
    if (b.medianMs >= a.ci[0] && b.medianMs <= a.ci[1]) inside++;
    if (b.ci[0] <= a.ci[1] && a.ci[0] <= b.ci[1]) overlapping++;
  }
}
const rows = [['run', 'median ms', '95% CI of median', '±%', 'status', 'repetition medians ms']];
runs.forEach((r, i) =>
  rows.push([
    String(i + 1),
    fmt(r.medianMs, 4),
    `[${fmt(r.ci[0], 4)}, ${fmt(r.ci[1], 4)}]`,
    (((r.ci[1] - r.ci[0]) / 2 / r.medianMs) * 100).toFixed(2),
    r.status,
    r.repMediansMs.map((m) => fmt(m, 4)).join(', '),
  ]),
);
process.stdout.write(
  `${runs[0].id} on ${runs[0].device}, ${RUNS} separate runs of ${REPETITIONS} repetition(s) each\n\n${formatTable(rows, [false, true, true, true, false, false])}\n\n`,
);
process.stdout.write(`spread of medians (max − min) / min: ${(spread * 100).toFixed(2)}%\n`);
process.stdout.write(`medians inside another run's 95% interval: ${inside} of ${pairs} ordered pairs\n`);
process.stdout.write(`95% intervals that overlap: ${overlapping} of ${pairs} ordered pairs\n`);

// What `moebench compare` would say of each two runs of the same case: anything but SAME or
// UNCERTAIN would be a false difference.
if (REPETITIONS >= 2) {
  const verdicts = new Map<string, number>();
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const { ci, p } = processLevelRatio(runs[i].repMediansMs, runs[j].repMediansMs);
      const v = verdictOf(runs[i].medianMs / runs[j].medianMs, ci, p, COMPARE_DEFAULTS);
      verdicts.set(v, (verdicts.get(v) ?? 0) + 1);
    }
  }
  process.stdout.write(
    `compare's verdicts on the ${(runs.length * (runs.length - 1)) / 2} pairs of runs: ${[...verdicts].map(([v, n]) => `${v} ${n}`).join(', ')}\n`,
  );
}
