/**
 * npm run bench:scaling — on the ORT CPU EP, in one run:
 *  1. routed MoE time grows with k (k = 1, 2, 4, 8 at a fixed 16 experts): the routed formulation
 *     pays for the experts a token actually uses, not for all of them;
 *  2. the dense SwiGLU layer's GFLOP/s against one large square MatMul's on the same EP.
 * Prints a table and, with --json, the figures as JSON. Never a test: timings vary by machine.
 */
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { OrtBackend } from '../src/backends/ort.js';
import { executeCase } from '../src/run/execute.js';
import { describeHostCpu } from '../src/env/machine.js';
import { DEFAULT_SAMPLER, measure } from '../src/measure/sampler.js';
import { summarize } from '../src/measure/stats.js';
import { squareMatMulModel } from '../src/onnx/matmul.js';
import { fmt, formatTable } from '../src/text/table.js';
import { planCases } from '../src/workloads/plan.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof Ort;
const json = process.argv.includes('--json');
const backend = new OrtBackend('cpu');
const modelDir = mkdtempSync(join(tmpdir(), 'moebench-scaling-'));
const sampler = { ...DEFAULT_SAMPLER, stopping: { ...DEFAULT_SAMPLER.stopping, minTimeMs: 1000, maxTimeMs: 15_000 } };
const device = describeHostCpu();
const log = (s: string) => process.stderr.write(`${s}\n`);

async function layer(entry: Parameters<typeof planCases>[0][0]) {
  const [c] = planCases([entry]);
  log(`bench:scaling: ${c.id}`);
  const r = await executeCase(c, { backend, sampler, modelDir, deviceId: 0, device });
  if (!r.throughput || !r.summary) throw new Error(`${c.id}: ${r.status} ${r.error ?? ''}`);
  return {
    id: c.id,
    status: r.status,
    medianMs: r.summary.medianMs,
    ciPct: r.summary.medianCiRelHalfWidth * 100,
    gflopsPerSec: r.throughput.gflopsPerSec,
    tokensPerSec: r.throughput.tokensPerSec,
  };
}

async function squareMatMul(n: number) {
  log(`bench:scaling: MatMul ${n}×${n}·${n}×${n}`);
  const session = await ort.InferenceSession.create(squareMatMulModel(n), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const a = new ort.Tensor('float32', new Float32Array(n * n).fill(0.5), [n, n]);
  const m = await measure(async () => {
    const out = await session.run({ a });
    out.y.dispose();
  }, sampler);
  await session.release();
  const s = summarize(m.samplesMs);
  return {
    id: `matmul ${n}`,
    status: m.converged ? 'ok' : 'noisy',
    medianMs: s.medianMs,
    ciPct: s.medianCiRelHalfWidth * 100,
    gflopsPerSec: (2 * n ** 3) / (s.medianMs / 1000) / 1e9,
    tokensPerSec: NaN,
  };
}

const moe: ({ k: number } & Awaited<ReturnType<typeof layer>>)[] = [];
for (const k of [1, 2, 4, 8]) {
  moe.push({ k, ...(await layer({ preset: 'small', layer: 'moe', phase: 'prefill', tokens: 512, moeImpl: 'routed', topK: k, numExperts: 16 })) });
}
const dense = await layer({ preset: 'small', layer: 'dense', phase: 'prefill', tokens: 1024 });
const matmul = await squareMatMul(2048);
const denseVsMatmul = dense.gflopsPerSec / matmul.gflopsPerSec;

if (json) {
  process.stdout.write(`${JSON.stringify({ device, moe, dense, matmul, denseVsMatmul }, null, 2)}\n`);
} else {
  const rows = [['case', 'status', 'median ms', '±95%', 'GFLOP/s', 'time / k=1']];
  for (const r of moe)
    rows.push([`${r.id} (k=${r.k})`, r.status, fmt(r.medianMs, 4), `${r.ciPct.toFixed(1)}%`, fmt(r.gflopsPerSec), fmt(r.medianMs / moe[0].medianMs)]);
  rows.push([dense.id, dense.status, fmt(dense.medianMs, 4), `${dense.ciPct.toFixed(1)}%`, fmt(dense.gflopsPerSec), '']);
  rows.push([matmul.id, matmul.status, fmt(matmul.medianMs, 4), `${matmul.ciPct.toFixed(1)}%`, fmt(matmul.gflopsPerSec), '']);
  process.stdout.write(
    `${device}, onnxruntime-node ${ort.env.versions.node}, CPU EP\n\n${formatTable(rows, [false, false, true, true, true, true])}\n\n`,
  );
  process.stdout.write(`routed MoE time grows with k: ${moe.every((r, i) => i === 0 || r.medianMs > moe[i - 1].medianMs) ? 'yes' : 'NO'}\n`);
  process.stdout.write(`dense layer GFLOP/s / square MatMul GFLOP/s: ${(denseVsMatmul * 100).toFixed(1)}% (target ≥ 85%)\n`);
}
