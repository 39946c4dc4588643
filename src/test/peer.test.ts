import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PeerBackend, type PeerName } from '../backends/peer.js';
import { checkCorrectness } from '../run/correctness.js';
import { readResultFile } from '../results/io.js';
import { PRESETS } from '../workloads/presets.js';
import { makeInputs } from '../workloads/tensors.js';
import { tinyCase } from './helpers/cases.js';
import { moebench, ROOT } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'moebench-peer-'));

describe('the numpy peer: the same layers through python/peer.py', () => {
  it('probes available where python3 has numpy, and says which', async () => {
    const p = await new PeerBackend().probe();
    expect(p).toMatchObject({ available: true, hardware: false });
    expect(p.available && p.detail).toMatch(/^numpy \d+\.\d+\.\d+ on Python 3\.\d+\.\d+ \(python3\)$/);
  });

  it('says what is missing: no interpreter, or one without numpy, each with its fix', async () => {
    const none = await new PeerBackend('numpy', join(dir, 'no-python')).probe();
    expect(none).toMatchObject({ available: false, reason: `no ${join(dir, 'no-python')} to run the numpy peer` });
    // python3 without its site-packages: no numpy
    const bare = join(dir, 'bare-python');
    writeFileSync(bare, '#!/bin/sh\nexec python3 -S "$@"\n');
    chmodSync(bare, 0o755);
    const without = await new PeerBackend('numpy', bare).probe();
    expect(without).toMatchObject({ available: false, reason: `${bare} has no numpy` });
    expect(!without.available && without.fix).toMatch(/-m pip install numpy/);
  });

  it('runs only what it has built, and says so', () => {
    const peer = new PeerBackend();
    expect(peer.unsupported(tinyCase())).toBeUndefined();
    expect(peer.unsupported(tinyCase({ moeImpl: 'routed' }))).toBeUndefined();
    expect(peer.unsupported(tinyCase({ moeImpl: 'fused' }))).toBe("fused is ONNX Runtime's com.microsoft.MoE contrib op; numpy has none");
    expect(peer.unsupported(tinyCase({ layer: PRESETS.tiny.attention! }))).toBe('the numpy peer has no attention layer yet');
    expect(peer.unsupported(tinyCase({ dtype: 'fp16' }))).toMatch(/^the numpy peer runs fp32 only/);
  });

  it.each([
    ['dense SwiGLU', tinyCase()],
    ['routed MoE with a shared expert', tinyCase({ moeImpl: 'routed' })],
    ['dense-all MoE', tinyCase({ moeImpl: 'dense-all' })],
    ['routed MoE, most experts without tokens', tinyCase({ moeImpl: 'routed', routing: 'hot:1', moe: { topK: 1 } })],
    ['an expert-parallel slice under zipf routing', tinyCase({ moeImpl: 'routed', expertsPerCard: 2, numTokens: 32, routing: 'zipf:1.0' })],
    ['the roofline probe', tinyCase({ layer: PRESETS.tiny.matmul! })],
  ])('%s matches the float64 reference', async (_name, c) => {
    const inputs = makeInputs(c);
    const loaded = await new PeerBackend().load(c, inputs);
    try {
      const r = await checkCorrectness(c, inputs, loaded);
      expect(r.relativeL2Error).toBeLessThan(1e-5);
    } finally {
      await loaded.dispose();
    }
  });

  it("a layer the worker lacks fails its load with the worker's own error", async () => {
    const c = tinyCase({ layer: PRESETS.tiny.attention!, phase: 'decode', batch: 2, seqLen: 1, numTokens: 2, context: 4 });
    await expect(new PeerBackend().load(c, makeInputs(c))).rejects.toThrow('ValueError: the numpy peer has no attention layer yet');
  });

  it('in one run beside ort-cpu: every output checked, and compare --by backend gives each case a verdict', () => {
    const out = join(dir, 'peers.json');
    const r = moebench(
      [
        'run',
        '--backend',
        'all-available',
        '--preset',
        'tiny',
        '--layer',
        'dense,matmul',
        '--phase',
        'prefill',
        '--tokens',
        '64',
        '--repetitions',
        '1',
        '--max-time-ms',
        '200',
        '--python',
        'python3',
        '--out',
        out,
      ],
      { MOEBENCH_ENGINES: 'ort-cpu,numpy' },
    );
    expect(r.status, r.stderr).toBe(0);
    const file = readResultFile(out);
    expect([...new Set(file.cases.map((c) => c.backend))].sort()).toEqual(['numpy', 'ort-cpu']);
    for (const c of file.cases) {
      expect(c.correctness!.passed, `${c.backend} ${c.id}`).toBe(true);
      expect(c.throughput!.tokensPerSec).toBeGreaterThan(0);
    }
    // --python names the interpreter; the run records it
    expect(file.environment.envVars.MOEBENCH_PYTHON).toBe('python3');
    const compared = moebench(['compare', out, '--by', 'backend', '--baseline', 'ort-cpu', '--format', 'json']);
    expect(compared.status, compared.stderr).toBe(0);
    const pairs = JSON.parse(compared.stdout).pairs as { row: { id: string }; verdict: string }[];
    expect(pairs.map((p) => p.row.id).sort()).toEqual(['tiny/dense/prefill/t64/fp32', 'tiny/matmul/prefill/t64/fp32/d32x2']);
    for (const p of pairs) expect(['FASTER', 'SLOWER', 'SAME', 'UNCERTAIN']).toContain(p.verdict);
  });
});

/** The peers' pinned virtual environment (scripts/setup-peers.sh; npm test makes it). */
const VENV = join(ROOT, '.cache', 'peers-venv', 'bin', 'python');

describe('torch-cpu and ort-python: the peers in their pinned environment', () => {
  it('has the environment (npm run setup:peers)', () => {
    expect(existsSync(VENV), `${VENV} is missing: npm run setup:peers`).toBe(true);
  });

  it.each([
    ['torch-cpu', 'torch 2.13.0+cpu'],
    ['ort-python', 'onnxruntime 1.30.0'],
  ] as [PeerName, string][])('%s probes available there, with its version', async (name, version) => {
    const p = await new PeerBackend(name, VENV).probe();
    expect(p.available && p.detail).toMatch(new RegExp(`^${version.replace(/[.+]/g, '\\$&')} on Python 3`));
  });

  it("a python3 without torch says so, with the pinned install and the venv's script", async () => {
    const bare = join(dir, 'bare-python-torch');
    writeFileSync(bare, '#!/bin/sh\nexec python3 -S "$@"\n');
    chmodSync(bare, 0o755);
    const p = await new PeerBackend('torch-cpu', bare).probe();
    // numpy is imported first: a bare interpreter lacks it before torch
    expect(p).toMatchObject({ available: false, reason: `${bare} has no numpy` });
    expect(!p.available && p.fix).toMatch(/-m pip install torch==2\.13\.0\+cpu .*scripts\/setup-peers\.sh/);
  });

  const cases = [
    ['dense SwiGLU', tinyCase()],
    ['routed MoE with a shared expert', tinyCase({ moeImpl: 'routed' })],
    ['dense-all MoE', tinyCase({ moeImpl: 'dense-all' })],
    ['an expert-parallel slice under zipf routing', tinyCase({ moeImpl: 'routed', expertsPerCard: 2, numTokens: 32, routing: 'zipf:1.0' })],
  ] as const;
  for (const name of ['torch-cpu', 'ort-python'] as PeerName[]) {
    it.each(cases)(`${name}: %s matches the float64 reference`, async (_n, c) => {
      const inputs = makeInputs(c);
      const loaded = await new PeerBackend(name, VENV).load(c, inputs, { modelDir: join(dir, 'models'), deviceId: 0, threads: 1 });
      try {
        expect((await checkCorrectness(c, inputs, loaded)).relativeL2Error).toBeLessThan(1e-5);
      } finally {
        await loaded.dispose();
      }
    });
  }

  it("ort-python runs moebench's own model file: fused MoE, attention and fp16 too", async () => {
    for (const c of [
      tinyCase({ moeImpl: 'fused' }),
      tinyCase({ layer: PRESETS.tiny.attention!, phase: 'decode', batch: 4, seqLen: 1, numTokens: 4, context: 16 }),
      tinyCase({ dtype: 'fp16' }),
    ]) {
      const inputs = makeInputs(c);
      const loaded = await new PeerBackend('ort-python', VENV).load(c, inputs, { modelDir: join(dir, 'models'), deviceId: 0 });
      try {
        const r = await checkCorrectness(c, inputs, loaded);
        expect(r.passed, c.id).toBe(true);
        expect(loaded.details.modelFile).toMatch(/\.onnx$/);
      } finally {
        await loaded.dispose();
      }
    }
  });

  it('one run: ort-cpu, ort-python, torch-cpu and numpy on the same cases, and compare --by backend answers for each', () => {
    const out = join(dir, 'all-peers.json');
    const r = moebench(
      [
        'run',
        '--backend',
        'all-available',
        '--preset',
        'tiny',
        '--layer',
        'dense',
        '--phase',
        'prefill',
        '--tokens',
        '64',
        '--repetitions',
        '1',
        '--max-time-ms',
        '200',
        '--threads',
        '1',
        '--python',
        VENV,
        '--out',
        out,
      ],
      { MOEBENCH_ENGINES: 'ort-cpu,ort-python,torch-cpu,numpy' },
    );
    expect(r.status, r.stderr).toBe(0);
    const file = readResultFile(out);
    expect(file.cases.map((c) => c.backend).sort()).toEqual(['numpy', 'ort-cpu', 'ort-python', 'torch-cpu']);
    for (const c of file.cases) expect(c.correctness!.passed, c.backend).toBe(true);
    const compared = moebench(['compare', out, '--by', 'backend', '--baseline', 'ort-cpu', '--format', 'json']);
    expect(compared.status, compared.stderr).toBe(0);
    const pairs = JSON.parse(compared.stdout).pairs as { candidate: string; verdict: string }[];
    expect(pairs.map((p) => p.candidate).sort()).toEqual(['numpy', 'ort-python', 'torch-cpu']);
  });
});
