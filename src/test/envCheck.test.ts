import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResultFile } from '../results/io.js';
import { verdictOf } from '../run/selfCheck.js';
import { lavapipeEnv, moebench } from './helpers/cli.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'fake-run.json');
const tmp = () => mkdtempSync(join(tmpdir(), 'moebench-check-'));

describe('moebench env --check', () => {
  it('runs on every engine this machine has and says which work; --out keeps it as JSON', () => {
    const out = join(tmp(), 'check.json');
    const r = moebench(['env', '--check', '--out', out, '--model-dir', join(tmp(), 'models')], lavapipeEnv() ?? {}, 110_000);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.kind).toBe('env-check');
    const verdict = (name: string) => report.checks.find((c: { backend: string }) => c.backend === name)?.verdict;
    for (const engine of ['ort-cpu', 'tfjs-wasm', 'tfjs-cpu']) expect(verdict(engine)).toBe('works');
    // WebGPU through Mesa's lavapipe where scripts/setup-lavapipe.sh installed it (CI does)
    if (lavapipeEnv()) for (const engine of ['ort-webgpu', 'tfjs-webgpu']) expect(verdict(engine)).toBe('works');
    for (const c of report.checks) {
      expect(['works', 'wrong numbers', 'fails', 'unavailable']).toContain(c.verdict);
      if (c.verdict === 'works') for (const k of c.cases) expect(['ok', 'noisy', 'skipped']).toContain(k.status);
      if (c.verdict === 'unavailable') expect(c.fix).toBeTruthy();
    }
    // one line per engine, in a table that fits a terminal: each device named short, described once under it
    const [table, legend] = r.stdout
      .split('\n\n')[0]
      .split('\nworks: ')[0]
      .split(/\ndevices: /);
    expect(table.split('\n')).toHaveLength(2 + report.checks.length);
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(legend).toMatch(/(^|; )cpu = .+, \d+ cores, \d+ GiB(;|$)/);
    // a working engine's times, then its worst error, whole beside lavapipe's long device name
    for (const engine of ['ort-cpu', 'tfjs-wasm', ...(lavapipeEnv() ? ['ort-webgpu'] : [])])
      expect(table).toMatch(
        new RegExp(`^${engine}\\s+\\S.*\\s+works\\s+MoE [\\d.]+ ms, dense [\\d.]+ ms a call, error ≤ \\d\\.\\de-\\d+ vs float64$`, 'm'),
      );
    expect(r.stdout).toContain("\nworks: the tiny MoE and dense cases' median time a call (not a measurement); error: the worst relative L2 error\n");
    expect(report.checks.find((c: { backend: string }) => c.backend === 'ort-cpu').detail).toMatch(
      /^MoE [\d.]+ ms, dense [\d.]+ ms a call, error ≤ \d\.\de-\d+ vs float64$/,
    );
    expect(r.stdout).toMatch(/\d of 13 engine\(s\) work here \(checked in \d+ s\); written to /);
  });

  it('--out without --check is refused', () => {
    const r = moebench(['env', '--out', join(tmp(), 'x.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--out writes the result of --check: add --check/);
  });
});

describe('the verdict of an engine from its two cases', () => {
  const [measuredCase] = readResultFile(FIXTURE).cases;
  it('wrong numbers: an invalid case names its error against the tolerance', () => {
    const invalid = {
      ...measuredCase,
      status: 'invalid' as const,
      correctness: { relativeL2Error: 3e-3, tolerance: 1e-4, rowsChecked: 4, rowsTotal: 4, passed: false },
    };
    const v = verdictOf([measuredCase, invalid as never]);
    expect(v.verdict).toBe('wrong numbers');
    expect(v.detail).toMatch(/relative L2 error 3\.0e-3 against the float64 reference, over the 0\.0001 allowed for fp32/);
  });
  it('fails: a failed case gives its reason', () => {
    const failed = { ...measuredCase, status: 'failed' as const, error: 'crashed: killed by SIGSEGV' };
    expect(verdictOf([failed as never, measuredCase])).toEqual({ verdict: 'fails', detail: `${measuredCase.id}: crashed: killed by SIGSEGV` });
  });
});
