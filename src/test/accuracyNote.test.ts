import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Backend, LoadedCase } from '../backends/backend.js';
import { OrtBackend } from '../backends/ort.js';
import { DEFAULT_SAMPLER } from '../measure/sampler.js';
import { executeCase } from '../run/execute.js';
import { planCases } from '../workloads/plan.js';

const [fp16] = planCases([{ preset: 'tiny', layer: 'dense', phase: 'decode', tokens: 4, dtype: 'fp16' }]);

describe('an output that misses the tolerance says what the engine’s arithmetic did', () => {
  it('ORT WebGPU in fp16: fp16 accumulation named (the H200 sitting: every deepseek-v3 case 1.6e-2 to 2.3e-2)', () => {
    expect(new OrtBackend('webgpu').accuracyNote(fp16)).toMatch(
      /^ONNX Runtime's WebGPU EP accumulates fp16 products in fp16, so a dot product over \d+ terms/,
    );
    expect(new OrtBackend('webgpu').accuracyNote({ ...fp16, dtype: 'fp32' })).toBeUndefined();
    expect(new OrtBackend('cpu').accuracyNote(fp16)).toBeUndefined();
  });

  it('the invalid case carries the note after the error', async () => {
    const wrong: LoadedCase = {
      run: async () => undefined,
      // zeros where the layer's output is not: relative L2 error 1
      output: async () => new Float32Array(fp16.numTokens * fp16.layer.hiddenSize),
      dispose: async () => undefined,
      details: {},
    };
    const backend: Backend = {
      name: 'stand-in',
      engine: 'stand-in',
      executionProvider: 'none',
      placement: 'host',
      probe: async () => ({ available: true, detail: 'stand-in', hardware: false }),
      unsupported: () => undefined,
      accuracyNote: () => 'its products keep 11 bits',
      load: async () => wrong,
      loadOverhead: async () => wrong,
    };
    const r = await executeCase(fp16, {
      backend,
      sampler: DEFAULT_SAMPLER,
      modelDir: mkdtempSync(join(tmpdir(), 'moebench-acc-')),
      deviceId: 0,
      device: 'cpu',
    });
    expect(r.status).toBe('invalid');
    expect(r.error).toBe('relative L2 error 1.00e+0 exceeds 0.01 for fp16: its products keep 11 bits');
  });
});
