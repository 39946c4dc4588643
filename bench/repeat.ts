/**
 * npm run bench:repeat [-- RUN OPTIONS...] — the repeatability criterion. Five `moebench run`s of
 * the default suite back to back on one machine, unchanged code, then `moebench compare --by file`
 * on every pair of them. As criterion.rs, pyperf and nvbench_compare judge it: a verdict is
 * calibrated when repeated runs of the same code are called different no more often than its own
 * significance level. It holds when
 *   - at most 5% (the verdict's α) of all pair × case comparisons are FASTER or SLOWER,
 *   - none of those by more than 10%,
 *   - and, on a quiet host, at least half are SAME (a rule that always says UNCERTAIN is
 *     calibrated but useless). Quiet over the runs: each host check (before each run, and after
 *     it when the run was long enough to take one) said quiet, and the host's level did not move
 *     from check to check by more than compare's margin (judgeHostOverChecks).
 * It prints the false-difference rate, SAME against UNCERTAIN, each case's spread of medians
 * over the five runs, the host check's loop and memory-pass times at each run's start (the host's
 * own drift between runs) and, not part of the criterion, what several runs a side make of the
 * same runs (earlier against later, odd against even; each run one observation). Options after
 * `--` go to every run (default: --repetitions 3, which lifts the first look's time budget so each
 * case is measured as thoroughly as a real run).
 * `-- --judge DIR` runs nothing and judges the five runs an earlier bench:repeat left in DIR (as
 * its last line names it): the verdicts of today's compare on yesterday's measurements. A bench
 * stopped early (a GPU sitting's call running out) leaves its finished runs and an unfinished one:
 * the finished ones are judged, two at least, and the report says how many of five.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readResultFile } from '../src/results/io.js';
import { deviceOnHostCpu } from '../src/env/cards.js';
import { checksOfRun, judgeHostOverChecks } from '../src/env/hostLoad.js';
import { medianSpread } from '../src/results/repetitions.js';
import { fmt, formatTable } from '../src/text/table.js';
import { compareRuns, COMPARE_DEFAULTS, summarizeSides, type Comparison, type Pair } from '../src/compare/compare.js';
import { toDecideLine } from '../src/compare/format.js';

const RUNS = 5;
const ALPHA = 0.05;
const MAX_FALSE_RATIO = 0.1;
const passed = process.argv.slice(2);
const judged = passed[0] === '--judge' ? passed[1] : undefined;
if (passed[0] === '--judge' && (!judged || passed.length > 2)) throw new Error("--judge takes one folder: an earlier bench:repeat's files");
const runArgs = passed.length ? passed : ['--repetitions', '3'];
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.js');
const dir = judged ?? mkdtempSync(join(tmpdir(), 'moebench-repeat-'));
const startedAt = new Date();

const planned = Array.from({ length: RUNS }, (_, i) => join(dir, `run${i + 1}.json`));
if (!judged) {
  planned.forEach((out, i) => {
    process.stderr.write(`bench:repeat: run ${i + 1}/${RUNS} (moebench run --suite default ${runArgs.join(' ')})\n`);
    const r = spawnSync(process.execPath, [cli, 'run', '--suite', 'default', ...runArgs, '--model-dir', join(dir, 'models'), '--out', out], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`run ${i + 1} failed (exit ${r.status})`);
  });
}
// each run read once; a run that was stopped has no end time: only finished runs are judged
const finished = planned.flatMap((file) => {
  const result = existsSync(file) ? readResultFile(file) : undefined;
  return result?.environment.endedAt !== undefined ? [{ file, result }] : [];
});
if (judged && finished.length < 2) {
  throw new Error(`--judge ${dir}: ${finished.length} finished run(s) of run1.json to run${RUNS}.json, and a judgement needs two`);
}
const files = finished.map((r) => r.file);
const runsRead = finished.map((r) => r.result);

const tally = { FASTER: 0, SLOWER: 0, SAME: 0, UNCERTAIN: 0 };
const falseRatios: { pair: string; id: string; ratio: number }[] = [];
// every pair of every comparison: what would decide the UNCERTAIN ones is said over all of them
const allPairs: Pair[] = [];
const runName = (f: string) => basename(f, '.json').replace('run', '');
const pairCount = (files.length * (files.length - 1)) / 2;
for (let i = 0; i < files.length; i++) {
  for (let j = i + 1; j < files.length; j++) {
    const r = spawnSync(process.execPath, [cli, 'compare', files[i], files[j], '--by', 'file', '--format', 'json'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`compare ${runName(files[i])} ${runName(files[j])} failed: ${r.stderr}`);
    const c = JSON.parse(r.stdout) as Comparison;
    for (const p of c.pairs) {
      tally[p.verdict]++;
      allPairs.push(p);
      if (p.verdict === 'FASTER' || p.verdict === 'SLOWER')
        falseRatios.push({ pair: `${runName(files[i])}-${runName(files[j])}`, id: p.row.id, ratio: p.ratio });
    }
  }
}

const total = tally.FASTER + tally.SLOWER + tally.SAME + tally.UNCERTAIN;
const falseRate = (tally.FASTER + tally.SLOWER) / total;
const worst = falseRatios.reduce((w, f) => Math.max(w, Math.abs(f.ratio - 1)), 0);
const ids = runsRead[0].cases.map((c) => c.id);
const rows = [['case', ...files.map((f) => `run ${runName(f)} ms`), 'spread', 'statuses']];
for (const id of ids) {
  const cs = runsRead.map((f) => f.cases.find((c) => c.id === id)!);
  const medians = cs.map((c) => (c.status === 'ok' || c.status === 'noisy' ? c.summary.medianMs : NaN));
  const spread = medianSpread(medians) ?? 0;
  rows.push([id, ...medians.map((m) => fmt(m, 4)), `${(spread * 100).toFixed(1)}%`, cs.map((c) => c.status).join(' ')]);
}

// the host's own level at each run's start: a shift between runs is drift that no run's interval,
// built from its own processes, can see (the development VM's memory passes moved 5.3-8.0 ms)
const level = (xs: (number | undefined)[]) => {
  const known = xs.filter((x): x is number => x !== undefined);
  const spread = medianSpread(known);
  return `${xs.map((x) => (x === undefined ? '-' : x.toFixed(2))).join(', ')} ms${spread === undefined ? '' : ` (${(spread * 100).toFixed(1)}% apart)`}`;
};
const hostLevels = `host per run: loop ${level(runsRead.map((f) => f.environment.hostCheck?.calibration?.loopMs))}; memory pass ${level(
  runsRead.map((f) => f.environment.hostCheck?.memory?.passMs),
)}`;

// several runs a side, each run one observation (as `compare --by folder` takes them): the earlier
// runs against the later ones, where drift between runs shows most, and odd against even; not the
// criterion, which is asked of single runs, but what a drifting host leaves a user who repeats runs
const sidesOf = (a: number[], b: number[]) => {
  const named = (idx: number[]) => idx.map((i) => runName(files[i])).join(', ');
  const side = (idx: number[]) => idx.map((i) => ({ ...runsRead[i], source: `runs ${named(idx)}` }));
  // two sides, so one candidate's summary holds every verdict
  const [summary] = summarizeSides(compareRuns([...side(a), ...side(b)], { ...COMPARE_DEFAULTS, by: 'file' }));
  const count = summary?.verdicts ?? { FASTER: 0, SLOWER: 0, SAME: 0, UNCERTAIN: 0 };
  return `runs ${named(a)} against ${named(b)}: FASTER ${count.FASTER}, SLOWER ${count.SLOWER}, SAME ${count.SAME}, UNCERTAIN ${count.UNCERTAIN}`;
};
const half = Math.floor(files.length / 2);
const indices = files.map((_, i) => i);
const severalRuns =
  files.length >= 4
    ? `several runs a side, each run one observation (compare --by folder): ${sidesOf(indices.slice(0, half), indices.slice(-half))}; ${sidesOf(
        indices.filter((i) => i % 2 === 0),
        indices.filter((i) => i % 2 === 1),
      )}`
    : `several runs a side: needs four finished runs (${files.length} here)`;

const decide = toDecideLine({ pairs: allPairs });
const calibrated = falseRate <= ALPHA && worst <= MAX_FALSE_RATIO;
const useful = tally.SAME >= total / 2;
const host = runsRead[0].environment;
// usefulness is asked of a host quiet over all the runs: on a busy or drifting one UNCERTAIN is
// the honest answer, since no run's interval, built from its own processes, sees the host move
const hostOverRuns = judgeHostOverChecks(
  runsRead.flatMap((f, i) => checksOfRun(f.environment, `run ${runName(files[i])}`)),
  { hostCases: runsRead.some((f) => f.cases.some((c) => deviceOnHostCpu(c.device))), margin: COMPARE_DEFAULTS.minDifference },
);
const quiet = hostOverRuns.quiet;
const holds = calibrated && (useful || !quiet);
process.stdout.write(
  [
    judged
      ? `bench:repeat --judge: the runs of ${host.host} (${host.cpu.model}, ${host.cpu.cores} cores), ${host.startedAt} to ${runsRead[runsRead.length - 1].environment.endedAt ?? '?'}, judged ${startedAt.toISOString()}`
      : `bench:repeat on ${host.host} (${host.cpu.model}, ${host.cpu.cores} cores), ${startedAt.toISOString()} to ${new Date().toISOString()}`,
    `runs: ${judged ? `${files.length} of ${RUNS} finished, read from ${dir} (${host.commandLine.join(' ')})` : `moebench run --suite default ${runArgs.join(' ')}`}; host checks: ${runsRead.map((f) => (f.environment.hostCheck?.noisy ? 'busy' : 'quiet')).join(', ')}`,
    `${hostLevels}; ${quiet ? 'quiet over the runs' : `not quiet over the runs: ${hostOverRuns.reasons.join('; ')}`}`,
    '',
    formatTable(rows, [false, ...runsRead.map(() => true), true, false]),
    '',
    `${total} comparisons (${pairCount} pairs × ${total / pairCount} cases): FASTER ${tally.FASTER}, SLOWER ${tally.SLOWER}, SAME ${tally.SAME}, UNCERTAIN ${tally.UNCERTAIN}`,
    `false-difference rate ${(falseRate * 100).toFixed(1)}% (criterion ≤ ${ALPHA * 100}%), largest false difference ${(worst * 100).toFixed(1)}% (criterion ≤ ${MAX_FALSE_RATIO * 100}%)${falseRatios.length ? `: ${falseRatios.map((f) => `${f.pair} ${f.id} ×${f.ratio.toFixed(3)}`).join('; ')}` : ''}`,
    `SAME in ${((tally.SAME / total) * 100).toFixed(0)}% of comparisons (criterion on a quiet host: ≥ 50%)`,
    ...(decide ? [decide] : []),
    severalRuns,
    `calibrated: ${calibrated ? 'yes' : 'NO (fix the interval or the verdict rule, not the threshold)'}; useful (≥ 50% SAME${quiet ? '' : ', asked of a quiet host only'}): ${useful ? 'yes' : 'no'}; criterion ${holds ? 'holds' : 'FAILS'}`,
    `files: ${dir}`,
    '',
  ].join('\n'),
);
process.exitCode = holds ? 0 : 1;
