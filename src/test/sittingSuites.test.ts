import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOptionsFrom } from '../run/options.js';
import { planRun } from '../run/plan.js';
import { ROOT } from './helpers/cli.js';

// a GPU sitting is minutes of a lent card: a suite that does not plan what docs/gpu-box.md says it
// runs would be found out only there
const plan = (file: string, dtype?: string) =>
  planRun(runOptionsFrom({ suite: join(ROOT, 'scripts', file), ...(dtype ? { dtype } : {}) })).cases.map((c) => c.id);

describe("the next sittings' suites (docs/gpu-box.md)", () => {
  it("deepseek-v3's core: the prefill MoE slice first (what moebench size --from needs), in fp16 for the peers", () => {
    expect(plan('gpu-sitting-core.json')).toEqual([
      'deepseek-v3/moe/prefill/t4096/fp16/e256k8/routed/uniform/ep8',
      'deepseek-v3/moe/decode/t256/fp16/e256k8/routed/uniform/ep8',
      'deepseek-v3/dense/prefill/t4096/fp16',
      'deepseek-v3/dense/decode/t64/fp16',
    ]);
    // the WebGPU engines run it in fp32, as the sitting's --dtype fp32 asks
    expect(plan('gpu-sitting-core.json', 'fp32')[0]).toBe('deepseek-v3/moe/prefill/t4096/fp32/e256k8/routed/uniform/ep8');
  });

  it("mixtral's: all 8 experts on the card, prefill first, then decode and GQA attention over a 4k cache", () => {
    expect(plan('gpu-sitting-mixtral.json')).toEqual([
      'mixtral-8x7b/moe/prefill/t2048/fp16/e8k2/routed/uniform',
      'mixtral-8x7b/moe/decode/t32/fp16/e8k2/routed/uniform',
      'mixtral-8x7b/attention/decode/t32/fp16/ctx4096',
    ]);
  });
});
