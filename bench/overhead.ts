/**
 * npm run bench:overhead — how much the harness adds to what it times. Fast cases
 * on the ORT CPU EP are timed by the harness (loaded case + sampler) and by a bare
 * loop of session.run on the same model file in the same process, alternating
 * three rounds each so drift hits both alike. Target: at most +2% for cases of 1 ms or more.
 */
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { OrtBackend } from '../src/backends/ort.js';
import { describeHostCpu } from '../src/env/machine.js';
import { DEFAULT_SAMPLER, measure } from '../src/measure/sampler.js';
import { median } from 'simple-statistics';
import { ensureModel } from '../src/onnx/modelFile.js';
import { fmt, formatTable } from '../src/text/table.js';
import { planCases } from '../src/workloads/plan.js';
import { makeInputs } from '../src/workloads/tensors.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof Ort;
const modelDir = mkdtempSync(join(tmpdir(), 'moebench-overhead-'));
const backend = new OrtBackend('cpu');
const ROUNDS = 9;
const BARE_CALLS = 400;

const cases = planCases([
  { preset: 'small', layer: 'dense', phase: 'decode', tokens: [4, 16] },
  { preset: 'small', layer: 'moe', phase: 'decode', tokens: 16, moeImpl: 'routed' },
]);

const rows = [['case', 'harness median ms', 'bare loop median ms', 'harness adds (median of rounds)', 'range over rounds']];
const figures = [];
for (const c of cases) {
  process.stderr.write(`bench:overhead: ${c.id}\n`);
  const inputs = makeInputs(c);
  const model = ensureModel(c, modelDir);
  const loaded = await backend.load(c, inputs, { modelDir, deviceId: 0 });
  const session = await ort.InferenceSession.create(model.path, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const feeds = Object.fromEntries(Object.entries(inputs.feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.data, t.dims)]));
  const harness: number[] = [];
  const bare: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const m = await measure(() => loaded.run(), DEFAULT_SAMPLER);
    harness.push(median(m.samplesMs));
    const times: number[] = [];
    for (let i = 0; i < BARE_CALLS; i++) {
      const t0 = process.hrtime.bigint();
      const out = await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      for (const t of Object.values(out)) t.dispose();
    }
    bare.push(median(times.slice(BARE_CALLS / 4)));
  }
  await loaded.dispose();
  await session.release();
  const h = median(harness);
  const b = median(bare);
  // paired by round, so slow drift of the machine cancels
  const added = harness.map((x, i) => x / bare[i] - 1);
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  figures.push({ id: c.id, harnessMedianMs: h, bareMedianMs: b, addedFraction: median(added), addedRange: [Math.min(...added), Math.max(...added)] });
  rows.push([c.id, fmt(h, 4), fmt(b, 4), pct(median(added)), `${pct(Math.min(...added))} … ${pct(Math.max(...added))}`]);
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
} else {
  process.stdout.write(`${describeHostCpu()}, onnxruntime-node ${ort.env.versions.node}, CPU EP, ${ROUNDS} alternating rounds\n\n`);
  process.stdout.write(`${formatTable(rows, [false, true, true, true, true])}\n`);
}
