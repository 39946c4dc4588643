import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Io } from '../commands/io.js';
import { runCommand } from '../commands/run.js';
import { readResultFile } from '../results/io.js';
import { runOptionsFrom } from '../run/options.js';
import { moebench } from './helpers/cli.js';

// the default suite's cases at the tiny preset's shapes: the fake computes its output for real
const FIRST_LOOK = ['--suite', 'default', '--preset', 'tiny', '--backend', 'fake'];

// latencies spread evenly over 1–10 ms in a scrambled order: the median's interval closes as 1/√n
// and needs about 3,400 calls (19 s of the fake's clock) to reach ±2%, so no process converges
const SCATTERED = Array.from({ length: 97 }, (_, i) => 1 + ((i * 37) % 97) * (9 / 96));

describe('the default suite: a first look on a time budget', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-first-'));
  const saved = process.env.MOEBENCH_FAKE_SCRIPT;
  afterEach(() => {
    if (saved === undefined) delete process.env.MOEBENCH_FAKE_SCRIPT;
    else process.env.MOEBENCH_FAKE_SCRIPT = saved;
  });

  it('carries its own processes per case and budget; an explicit --repetitions lifts the budget', () => {
    const first = runOptionsFrom({ suite: 'default' });
    expect(first.repetitions).toBe(3);
    expect(first.timeBudgetMs).toBe(30_000);
    expect(runOptionsFrom({ suite: 'default', repetitions: 5 }).timeBudgetMs).toBeUndefined();
    expect(runOptionsFrom({ suite: 'default', maxTimeMs: 20000 }).timeBudgetMs).toBeUndefined();
    expect(runOptionsFrom({ suite: 'default', repetitions: 5, timeBudgetS: 90 }).timeBudgetMs).toBe(90_000);
    // real-shape suites keep the thorough defaults
    expect(runOptionsFrom({ suite: 'deepseek-v3' }).timeBudgetMs).toBeUndefined();
  });

  it('cases that never converge share the budget, end within it and are marked noisy', () => {
    const out = join(dir, 'budget.json');
    const budgetS = 12;
    const r = moebench(['run', ...FIRST_LOOK, '--time-budget-s', String(budgetS), '--out', out], {
      MOEBENCH_FAKE_SCRIPT: JSON.stringify({ latenciesMs: SCATTERED }),
    });
    expect(r.status, r.stderr).toBe(0);
    const file = readResultFile(out);
    expect(file.cases).toHaveLength(5);
    expect(file.cases.map((c) => c.status)).toEqual(['noisy', 'noisy', 'noisy', 'noisy', 'noisy']);
    // the fake's clock: every warm-up and timed call of all 15 processes, and the overhead model's (0 ms)
    const sampledMs = file.cases.reduce(
      (a, c) => a + (c.status === 'noisy' ? [...c.samplesMs, ...(c.warmupSamplesMs ?? [])].reduce((x, y) => x + y, 0) : 0),
      0,
    );
    expect(sampledMs).toBeLessThanOrEqual(budgetS * 1000);
    // without the budget each process could sample for 15 s (5 s warm-up, 10 s timed): 225 s in all;
    // with it, each of the 15 still took calls
    for (const c of file.cases) expect(c.repetitions!.map((p) => p.count)).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
    expect(file.cases.every((c) => c.repetitions!.every((p) => p.count! > 0))).toBe(true);
  });

  it('its output on a terminal fits one screen: at most 40 lines of at most 120 columns', async () => {
    process.env.MOEBENCH_FAKE_SCRIPT = JSON.stringify({ latenciesMs: SCATTERED });
    const screen: string[] = [];
    const progress: string[] = [];
    const io: Io = {
      argv: ['node', 'moebench', 'run'],
      out: (t) => screen.push(...t.split('\n')),
      err: (t) => screen.push(...t.split('\n')),
      progress: (t) => progress.push(t),
      onInterrupt: () => () => undefined,
    };
    const o = runOptionsFrom({ suite: 'default', preset: 'tiny', backend: 'fake', timeBudgetS: 8, out: join(dir, 'screen.json') });
    expect(await runCommand(o, io), screen.join('\n')).toBe(0);
    // a line wider than the terminal takes more than one row
    const rows = screen.reduce((a, l) => a + Math.max(1, Math.ceil(l.length / 120)), 0);
    expect(rows).toBeLessThanOrEqual(40);
    const table = screen.filter((l) => l.startsWith('tiny/') || l.startsWith('small/') || l.startsWith('case'));
    for (const l of table) expect(l.length).toBeLessThanOrEqual(120);
    // and it says how to get a tighter figure
    expect(screen.join('\n')).toMatch(/for a tighter figure add --repetitions 5/);
    // the rewritten progress line carried the stages and the time left
    expect(progress.some((l) => /: measuring · \d+ of 15 done in \d+s, about \d+s left$/.test(l))).toBe(true);
  });

  it('off a terminal, progress goes to stderr and the table alone to stdout', () => {
    const r = moebench(['run', ...FIRST_LOOK, '--time-budget-s', '6', '--out', join(dir, 'pipe.json')], {
      MOEBENCH_FAKE_SCRIPT: JSON.stringify({ latenciesMs: [2] }),
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/: measuring/);
    expect(r.stdout).not.toMatch(/: measuring|done in/);
    expect(r.stdout).toMatch(/^case\s+status\s+tokens\/s/);
  });
});
