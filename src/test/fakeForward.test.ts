import { describe, expect, it } from 'vitest';
import { FakeBackend } from '../backends/fake.js';
import { fakeForward } from '../backends/fakeForward.js';
import { checkCorrectness } from '../run/correctness.js';
import { planCases } from '../workloads/plan.js';
import { referenceRows, relativeL2Error } from '../workloads/reference.js';
import { makeInputs, WeightStore } from '../workloads/tensors.js';

const cases = planCases([
  { preset: 'tiny', layer: 'dense', phase: 'decode', tokens: 8 },
  { preset: 'tiny', layer: 'moe', phase: 'prefill', tokens: 32, moeImpl: 'routed', routing: ['uniform', 'zipf:1.2'] },
  { preset: 'tiny', layer: 'moe', phase: 'prefill', tokens: 32, moeImpl: 'routed', expertsPerCard: 2 },
]);

describe("the fake backend's forward pass", () => {
  for (const c of cases) {
    it(`is its own computation and agrees with the float64 reference: ${c.id}`, () => {
      const inputs = makeInputs(c);
      const rows = inputs.feeds.x.dims[0];
      const all = Array.from({ length: rows }, (_, i) => i);
      const d = c.layer.hiddenSize;
      const fake = fakeForward(c, inputs, new WeightStore(c));
      const err = relativeL2Error(fake, referenceRows(c, inputs, new WeightStore(c), all), all, d);
      // float32 batched against float64 per row: close, but not the same numbers
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(1e-5);
    });
  }

  it("is checked by the run's correctness check, which catches a 1% error", async () => {
    const c = cases[1];
    const inputs = makeInputs(c);
    const good = await new FakeBackend({ latenciesMs: [1] }).load(c, inputs);
    const bad = await new FakeBackend({ latenciesMs: [1], outputError: 0.01 }).load(c, inputs);
    const ok = await checkCorrectness(c, inputs, good);
    const wrong = await checkCorrectness(c, inputs, bad);
    expect(ok.passed).toBe(true);
    expect(ok.relativeL2Error).toBeGreaterThan(0);
    expect(wrong.passed).toBe(false);
    expect(wrong.relativeL2Error).toBeCloseTo(0.01, 4);
  });
});
