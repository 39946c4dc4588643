import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CARD_PEAKS, findCardPeak, rooflineOf } from '../env/datasheets.js';
import { readResultFile } from '../results/io.js';
import { mathEnv, mathUnsupported } from '../run/math.js';
import { TOLERANCE } from '../workloads/reference.js';
import { moebench, fakeScript, TINY_FAKE_RUN, tinyRun } from './helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'moebench-gpu-'));
const H100 = 'NVIDIA H100 SXM5 80GB';

describe('math modes: fp32 is strict fp32 on CUDA engines, tf32 only when asked', () => {
  it('a CUDA engine case process gets NVIDIA_TF32_OVERRIDE=0 for fp32 and fp16, and not 0 for tf32; other engines nothing', () => {
    expect(mathEnv('cuda', 'fp32')).toEqual({ NVIDIA_TF32_OVERRIDE: '0' });
    expect(mathEnv('cuda', 'fp16')).toEqual({ NVIDIA_TF32_OVERRIDE: '0' });
    expect(mathEnv('cuda', 'tf32')).toEqual({ NVIDIA_TF32_OVERRIDE: '1' });
    expect(mathEnv('host', 'fp32')).toEqual({});
    expect(mathEnv('webgpu', 'fp32')).toEqual({});
    expect(mathUnsupported('host', 'tf32')).toMatch(/tf32 is a math mode of NVIDIA tensor cores/);
    expect(mathUnsupported('cuda', 'tf32')).toBeUndefined();
  });

  it('an output off by 3e-4 (TF32 rounding) is invalid as fp32 and valid as tf32; each case records the override its process ran with', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench(
      [...TINY_FAKE_RUN, '--dtype', 'fp32,tf32', '--repetitions', '1', '--out', out],
      // as a shell that exported the override would: a tf32 case must still get TF32
      { ...fakeScript({ latenciesMs: [1], outputError: 3e-4 }), NVIDIA_TF32_OVERRIDE: '0' },
    );
    expect(r.status).toBe(1);
    const [fp32, tf32] = readResultFile(out).cases;
    expect(fp32.id).toBe('tiny/dense/decode/t4/fp32');
    expect(fp32.status).toBe('invalid');
    expect(fp32.correctness?.tolerance).toBe(1e-4);
    expect(fp32.math).toEqual({ mode: 'fp32', tf32Override: '0' });
    expect(tf32.id).toBe('tiny/dense/decode/t4/tf32');
    expect(['ok', 'noisy']).toContain(tf32.status);
    expect(tf32.correctness?.tolerance).toBe(2e-3);
    expect(tf32.math).toEqual({ mode: 'tf32', tf32Override: '1' });
    expect(TOLERANCE.tf32).toBeGreaterThan(3e-4);
  });

  it('tf32 on an engine without tensor cores is skipped, saying why', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench(
      [...TINY_FAKE_RUN, '--dtype', 'tf32', '--repetitions', '1', '--out', out],
      fakeScript({ latenciesMs: [1], placement: 'host' }),
    );
    expect(r.status).toBe(0);
    const [c] = readResultFile(out).cases;
    expect(c.status).toBe('skipped');
    expect(c.error).toMatch(/tf32 is a math mode of NVIDIA tensor cores, which only the CUDA engines/);
  });
});

describe('the roofline of the case’s own math mode', () => {
  const peak = findCardPeak('NVIDIA H100 80GB HBM3')!;
  it('fp32 divides by the fp32 peak (67 TFLOP/s), tf32 by the TF32 one (494.7), fp16 by fp16 (989.4)', () => {
    // 6.7e9 FLOPs, no bytes: 0.1 ms at 67 TFLOP/s
    expect(rooflineOf(peak, 'fp32', 6.7e9, 0, 1)!.floorMs).toBeCloseTo(0.1, 12);
    expect(rooflineOf(peak, 'tf32', 4.947e10, 0, 1)!.floorMs).toBeCloseTo(0.1, 12);
    expect(rooflineOf(peak, 'fp16', 9.894e10, 0, 1)!.floorMs).toBeCloseTo(0.1, 12);
    // no peak for the mode: no roofline rather than another mode's
    expect(rooflineOf(findCardPeak('Ascend 910B3')!, 'fp32', 1e9, 1e6, 1)).toBeUndefined();
  });

  it('faster than the compute peak fails the case; faster than memory bandwidth is marked cache-resident', () => {
    const out = join(tmp(), 'r.json');
    // small dense decode of 256 tokens: 256 × 6 × 1024 × 2816 = 4.43 GFLOP, 0.066 ms at 67 TFLOP/s; the fake says 0.01 ms
    // small dense decode of 1 token: 34.6 MB of weights, 0.0103 ms at 3.35 TB/s; the fake says 0.005 ms
    const r = moebench(
      [
        'run',
        '--backend',
        'fake',
        '--card',
        H100,
        '--preset',
        'small',
        '--layer',
        'dense',
        '--phase',
        'decode',
        '--repetitions',
        '1',
        '--sweep',
        'tokens=1,2,256',
        '--max-time-ms',
        '200',
        '--out',
        out,
      ],
      fakeScript({ latenciesMs: [1], latencyByCase: { '/t256/': 0.01, '/t1/': 0.005, '/t2/': 0.005 } }),
    );
    expect(r.status, r.stderr).toBe(1);
    const cases = readResultFile(out).cases;
    const big = cases.find((c) => c.id === 'small/dense/decode/t256/fp32')!;
    expect(big.status).toBe('failed');
    expect(big.error).toMatch(
      /^66\d% of the NVIDIA H100 SXM5 80GB's fp32 compute peak \(67 TFLOP\/s, .*\): 0\.01000 ms per call is faster than the card can do the case's fp32 work, so the engine did other math than asked \(fp32 as TF32\?/,
    );
    const one = cases.find((c) => c.id === 'small/dense/decode/t1/fp32')!;
    expect(['ok', 'noisy']).toContain(one.status);
    expect(one.roofline?.bound).toBe('memory');
    expect(one.roofline?.cacheResident).toBe(true);
    expect(r.stdout).toMatch(/cache: 2 case\(s\) ran faster than the card's memory bandwidth allows/);
  });
});

describe('datasheets match the names nvidia-smi reports, and no other card', () => {
  it.each([
    ['NVIDIA H800', 'NVIDIA H800 SXM5 80GB'],
    ['NVIDIA H800 PCIe', 'NVIDIA H800 PCIe 80GB'],
    ['NVIDIA H100 80GB HBM3', 'NVIDIA H100 SXM5 80GB'],
    ['NVIDIA H100 PCIe', 'NVIDIA H100 PCIe 80GB'],
    ['NVIDIA H100 NVL', 'NVIDIA H100 NVL 94GB'],
    ['NVIDIA H200', 'NVIDIA H200 SXM 141GB'],
    ['NVIDIA H200 NVL', 'NVIDIA H200 NVL 141GB'],
    ['NVIDIA H20', 'NVIDIA H20 96GB'],
    ['NVIDIA B200', 'NVIDIA B200 180GB'],
    ['NVIDIA GB200', 'NVIDIA GB200 (per GPU) 186GB'],
    ['NVIDIA A100-SXM4-40GB', 'NVIDIA A100 SXM4 40GB'],
    ['NVIDIA A100-SXM4-80GB', 'NVIDIA A100 SXM4 80GB'],
    ['NVIDIA A100-PCIE-40GB', 'NVIDIA A100 PCIe 40GB'],
    ['NVIDIA A100 80GB PCIe', 'NVIDIA A100 PCIe 80GB'],
    ['NVIDIA L40S', 'NVIDIA L40S 48GB'],
    ['NVIDIA L4', 'NVIDIA L4 24GB'],
    ['AMD Instinct MI300X', 'AMD Instinct MI300X 192GB'],
    ['910B3', 'Huawei Ascend 910B 64GB'],
    ['Ascend 910B3', 'Huawei Ascend 910B 64GB'],
    ['NVIDIA GH200 480GB', undefined],
    ['NVIDIA L40', undefined],
    ['NVIDIA A10', undefined],
  ])('%s → %s', (smiName, card) => {
    expect(findCardPeak(smiName)?.name).toBe(card);
  });

  it('each name of the table is matched by exactly one row, and every row names its source', () => {
    for (const p of CARD_PEAKS) {
      expect(CARD_PEAKS.filter((q) => q.match.test(p.name)).map((q) => q.name)).toEqual([p.name]);
      expect(p.source.length).toBeGreaterThan(20);
    }
  });

  it('--card H800 is accepted for the roofline', () => {
    const out = join(tmp(), 'r.json');
    const r = moebench(
      tinyRun('fake', 'dense', 'decode', '4', '--card', 'NVIDIA H800', '--repetitions', '1', '--out', out),
      fakeScript({ latenciesMs: [1] }),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readResultFile(out).cases[0].roofline?.card).toBe('NVIDIA H800 SXM5 80GB');
  });
});
