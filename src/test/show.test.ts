import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFacts } from '../commands/show.js';
import { judgeHost } from '../env/hostLoad.js';
import { loadRuns, type Run } from '../results/runs.js';
import { fakeScript, moebench, ROOT, tinyFakeRun } from './helpers/cli.js';

const RESULTS = join(ROOT, 'results');
// a run the first H200 sitting stopped at its call's end, after one process of two cases
const STOPPED = join(RESULTS, '2026-12-04T17-09Z-h200-deepseek-v3-torch-cuda.json');

describe('moebench show: a saved run in the terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-show-'));
  const run = (name: string, latencyMs: number) => {
    const out = join(dir, `${name}.json`);
    const r = moebench(tinyFakeRun('8,16', '--min-time-ms', '20', '--out', out), fakeScript({ latenciesMs: [latencyMs], device: 'H100 stand-in' }));
    expect(r.status, r.stderr).toBe(0);
    return { out, stdout: r.stdout };
  };
  const first = run('first', 2);

  it('prints the table the run printed at its end, under where and when it ran', () => {
    const r = moebench(['show', first.out]);
    expect(r.status, r.stderr).toBe(0);
    const table = first.stdout.slice(0, first.stdout.indexOf('\n\nresult file: '));
    expect(table).toMatch(/^case\s+status\s+tokens\/s/);
    const file = JSON.parse(readFileSync(first.out, 'utf8'));
    const { startedAt, endedAt } = file.environment as { startedAt: string; endedAt: string };
    expect(r.stdout).toBe(
      [
        first.out,
        `  cases from the command line · fake on fake (H100 stand-in) · host ${file.environment.host}`,
        `  ${startedAt.slice(0, 10)} ${startedAt.slice(11, 19)}–${endedAt.slice(11, 19)} UTC · 3 processes per case · moebench ${file.environment.moebench.version}`,
        '',
        `${table}\n`,
      ].join('\n'),
    );
  });

  it('a run that never reached its end says so, with the command that finishes it', () => {
    const r = moebench(['show', STOPPED]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.replace(/\n {4}/g, ' ')).toContain(`\n  unfinished: it never reached its end; continue with moebench run --resume ${STOPPED}\n`);
    expect(r.stdout).toMatch(/^ {2}deepseek-v3-sitting suite · torch-cuda on gpu:0 \(NVIDIA H200\) · host vm$/m);
    expect(r.stdout).toMatch(/^ {2}started 2026-12-04 17:12:34 UTC · 3 processes per case · moebench 0\.1\.0$/m);
    expect(r.stdout).toMatch(/^deepseek-v3\/moe\/decode\/t256\/fp16\/e256k8\/routed\/uniform\/ep8\s+ok\s+3,575\s/m);
    expect(r.stdout.split('\n').filter((l) => l.length > 120)).toEqual([]);
  });

  it('several files, a folder among them: each run in turn; csv puts every case of every file in one table with its file', () => {
    const second = run('second', 1);
    const both = moebench(['show', dir]);
    expect(both.status, both.stderr).toBe(0);
    expect(both.stdout.indexOf(`${first.out}\n`)).toBeGreaterThanOrEqual(0);
    expect(both.stdout.indexOf(`\n\n${second.out}\n`)).toBeGreaterThan(both.stdout.indexOf(`${first.out}\n`));
    const csv = moebench(['show', first.out, second.out, '--format', 'csv']).stdout.trim().split('\n');
    expect(csv[0]).toMatch(/^file,case,backend,device,dtype,tokens_per_call,status,tokens_per_sec,/);
    // two cases a file: t8 and t16, at 2 ms and then 1 ms a call
    expect(csv.slice(1).map((row) => row.split(',').slice(0, 2).join(' '))).toEqual([
      `${first.out} tiny/dense/decode/t8/fp32`,
      `${first.out} tiny/dense/decode/t16/fp32`,
      `${second.out} tiny/dense/decode/t8/fp32`,
      `${second.out} tiny/dense/decode/t16/fp32`,
    ]);
    expect(csv.slice(1).map((row) => Number(row.split(',')[7]))).toEqual([4000, 8000, 8000, 16000]);
    const md = moebench(['show', first.out, '--format', 'markdown']).stdout;
    expect(md).toMatch(new RegExp(`^### ${first.out}\\n\\n- cases from the command line · fake on fake \\(H100 stand-in\\)`));
    expect(md).toMatch(/^\| case \| status \| tokens\/s \|/m);
  });

  it('an unreadable file in a folder is named, the rest shown, exit 1; no file at all is exit 2', () => {
    const mixed = mkdtempSync(join(tmpdir(), 'moebench-show-bad-'));
    copyFileSync(first.out, join(mixed, 'good.json'));
    writeFileSync(join(mixed, 'truncated.json'), '{"schemaVersion": "1.8", "tool": "moebench", "cases": [');
    const r = moebench(['show', mixed]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/skipped .*truncated\.json: not valid JSON/);
    expect(r.stdout).toMatch(/good\.json\n {2}cases from the command line/);
    const none = moebench(['show', join(mixed, 'nope.json')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/nope\.json: cannot read: no such file or folder/);
    expect(moebench(['show', first.out, '--format', 'html']).stderr).toMatch(/--format "html": use table, markdown, csv/);
  });
});

describe("a saved run's facts", () => {
  const [run] = loadRuns([join(RESULTS, '2026-12-04T17-15Z-h200-default-tfjs-webgpu.json')]).runs;
  const check = (loopMs: number, busyCpuPercent = 0) =>
    judgeHost({
      cpus: 16,
      loadAverage1m: 0.2,
      busyProcesses: busyCpuPercent ? [{ pid: 7, name: 'make', cpuPercent: busyCpuPercent }] : [],
      calibration: { loopMs, spread: 0.02, between: 0.01 },
      memory: { passMs: 12, spread: 0.02, between: 0.01 },
    });
  const withChecks = (before: ReturnType<typeof check>, after?: ReturnType<typeof check>): Run => ({
    ...run,
    environment: { ...run.environment, hostCheck: before, hostCheckAfter: after },
  });

  it('a host its checks found quiet and steady is not mentioned', () => {
    expect(runFacts(withChecks(check(4.3), check(4.4)))).toHaveLength(2);
  });

  it('a host busy at the start, or moving from the start to the end past the ±5% margin, is said in one line', () => {
    const busy = runFacts(withChecks(check(4.3, 90)));
    expect(busy[2]).toBe('host not quiet during this run: its check called it busy at the start (other processes use 90% of a CPU (make pid 7 90%))');
    // 4.73 / 4.3 − 1 = 10.0%: the loop the check times moved twice the margin from start to end
    expect(runFacts(withChecks(check(4.3), check(4.73)))[2]).toBe(
      'host not quiet during this run: its fixed loop moved 10.0% from check to check, past the ±5% margin',
    );
  });
});
