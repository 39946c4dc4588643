import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResultFile } from '../results/io.js';
import { lavapipeEnv, moebench, tinyRun } from './helpers/cli.js';

// pretest unpacks Mesa 25 lavapipe into .cache/lavapipe; without it this must fail loudly, never skip
const env = lavapipeEnv();

describe('ORT WebGPU execution provider on Mesa lavapipe', () => {
  it('has the project-local lavapipe (npm run setup:lavapipe)', () => {
    expect(env, 'no .cache/lavapipe: run npm run setup:lavapipe').toBeDefined();
  });

  it('moebench env lists ort-webgpu as available on a software adapter', () => {
    const r = moebench(['env'], env);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ort-webgpu\s+available\s+.*\(runs on the CPU\)/);
  });

  it('runs the dense and routed MoE cases, checked against the reference', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'moebench-webgpu-')), 'r.json');
    const r = moebench(
      [
        'run',
        '--backend',
        'ort-webgpu',
        '--preset',
        'tiny',
        '--phase',
        'prefill',
        '--tokens',
        '32',
        '--moe-impl',
        'routed',
        '--max-time-ms',
        '2000',
        '--repetitions',
        '1',
        '--out',
        out,
      ],
      env,
    );
    expect(r.status, r.stderr).toBe(0);
    const cases = readResultFile(out).cases;
    expect(cases.map((c) => c.id).sort()).toEqual(['tiny/dense/prefill/t32/fp32', 'tiny/moe/prefill/t32/fp32/e8k2/routed/uniform']);
    for (const c of cases) {
      expect(c.executionProvider).toBe('webgpu');
      // lavapipe runs on the CPU: no card's datasheet roofline, even where nvidia-smi lists cards (CI's stand-in H100s)
      expect(c.roofline).toBeUndefined();
      expect(c.correctness!.passed).toBe(true);
      expect(c.throughput!.tokensPerSec).toBeGreaterThan(0);
    }
  });

  it('auto does not pick a software WebGPU adapter', () => {
    const run = moebench(
      tinyRun(
        'auto',
        'dense',
        'decode',
        '1',
        '--max-time-ms',
        '200',
        '--min-time-ms',
        '50',
        '--repetitions',
        '1',
        '--out',
        join(mkdtempSync(join(tmpdir(), 'moebench-auto-')), 'r.json'),
      ),
      // the two engines in question: on a lab box auto would rightly pick a CUDA engine first
      { ...env, MOEBENCH_ENGINES: 'ort-webgpu,ort-cpu' },
    );
    expect(run.stderr).toMatch(/auto: skipped ort-webgpu \(software adapter only\)/);
    expect(run.stderr).toMatch(/on ort-cpu/);
  });
});
