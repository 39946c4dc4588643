import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResultFile } from '../results/io.js';
import { fakeScript, moebench, ROOT, TINY_FAKE_RUN, WORKDIR } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'moebench-bench-repeat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const judge = (folder: string) =>
  spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', 'repeat.js'), '--judge', folder], { encoding: 'utf8', cwd: WORKDIR, timeout: 110_000 });

describe('bench:repeat --judge on a bench stopped early (a GPU sitting call that ran out)', () => {
  it('judges the finished runs, leaves out the one stopped mid-run, and says how many of five', () => {
    const runs = [...TINY_FAKE_RUN, '--repetitions', '3', '--max-time-ms', '200'];
    for (const n of [1, 2, 3]) expect(moebench([...runs, '--out', join(dir, `run${n}.json`)]).status).toBe(0);
    // run 4 as SIGTERM leaves it: its decode case measured, its prefill case hanging when stopped
    const stopped = join(dir, 'run4.json');
    spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), ...runs, '--phase', 'decode,prefill', '--out', stopped], {
      env: { ...process.env, ...fakeScript({ latenciesMs: [0.05], hangCases: ['dense/prefill'] }) },
      cwd: WORKDIR,
      timeout: 10_000,
      killSignal: 'SIGTERM',
    });
    expect(readResultFile(stopped).environment.endedAt).toBeUndefined();

    const r = judge(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^runs: 3 of 5 finished, read from /m);
    expect(r.stdout).toMatch(/^case +run 1 ms +run 2 ms +run 3 ms +spread/m);
    // each finished run's host check as its file records it, and how far apart they were (slowest ÷ fastest − 1)
    const checks = [1, 2, 3].map((n) => readResultFile(join(dir, `run${n}.json`)).environment.hostCheck!);
    const passes = checks.map((h) => h.memory!.passMs);
    const apart = ((Math.max(...passes) / Math.min(...passes) - 1) * 100).toFixed(1);
    expect(r.stdout).toMatch(/^host per run: loop \d+\.\d\d, \d+\.\d\d, \d+\.\d\d ms \(\d+\.\d% apart\); memory pass /m);
    expect(r.stdout).toContain(`; memory pass ${passes.map((x) => x.toFixed(2)).join(', ')} ms (${apart}% apart); `);
    const loops = checks.map((h) => h.calibration!.loopMs);
    expect(r.stdout).toContain(`host per run: loop ${loops.map((x) => x.toFixed(2)).join(', ')} ms`);
    // quiet over the runs: each check quiet and the loop within ±5% run to run; the fake's cases are
    // on no host CPU, so the memory pass, however far it moved, is not judged
    const loopApart = Math.max(...loops) / Math.min(...loops) - 1;
    const steady = checks.every((h) => !h.noisy) && loopApart <= 0.05;
    expect(r.stdout).toMatch(steady ? /% apart\); quiet over the runs\n/ : /% apart\); not quiet over the runs: /);
    expect(r.stdout).not.toContain('its memory pass moved');
    // three runs make three pairs; the fake's one case is the same in each
    expect(r.stdout).toContain('3 comparisons (3 pairs × 1 cases): FASTER 0, SLOWER 0, SAME 3, UNCERTAIN 0');
    // several runs a side needs four
    expect(r.stdout).toContain('several runs a side: needs four finished runs (3 here)\n');
  });

  it('four finished runs: several runs a side, earlier against later and odd against even, each run one observation', () => {
    const four = join(dir, 'four');
    mkdirSync(four);
    for (const n of [1, 2, 3]) copyFileSync(join(dir, `run${n}.json`), join(four, `run${n}.json`));
    // run 4 at twice the fake's 1 ms: every pair with it is SLOWER, and each side holding it has runs 2× apart
    const slow = moebench(
      [...TINY_FAKE_RUN, '--repetitions', '3', '--max-time-ms', '200', '--out', join(four, 'run4.json')],
      fakeScript({ latenciesMs: [2] }),
    );
    expect(slow.status, slow.stderr).toBe(0);
    const r = judge(four);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain('6 comparisons (6 pairs × 1 cases): FASTER 0, SLOWER 3, SAME 3, UNCERTAIN 0');
    // a side whose own runs are 2× apart decides nothing about its difference from the other: t(0.95, 1) = 6.31
    expect(r.stdout).toContain(
      'several runs a side, each run one observation (compare --by folder): runs 1, 2 against 3, 4: FASTER 0, SLOWER 0, SAME 0, UNCERTAIN 1; runs 1, 3 against 2, 4: FASTER 0, SLOWER 0, SAME 0, UNCERTAIN 1\n',
    );
  });

  it('refuses a folder with fewer than two finished runs, saying so', () => {
    const one = join(dir, 'one');
    expect(moebench([...TINY_FAKE_RUN, '--out', join(one, 'run1.json')]).status).toBe(0);
    const r = judge(one);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`--judge ${one}: 1 finished run(s) of run1.json to run5.json, and a judgement needs two`);
  });
});
