/**
 * node dist/bench/prepare.js --suite S [RUN OPTIONS...] --model-dir DIR [--shard I/N] [--for onnx,peer]
 * — builds what a run's case processes would otherwise build cold, and caches it in DIR: each case's
 * float64 reference rows (up to a minute of single-threaded JS for a real-shape case), its ONNX
 * model (the ONNX Runtime and TF.js engines) and its weights as the Python peers read them. It
 * measures nothing, so it can run beside another engine's cases or, sharded, on several cores at
 * once ahead of a short GPU sitting (scripts/gpu-session.sh sitting). The cases are planned by
 * `run`'s own options code, so they are the cases the run will look up.
 */
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
import { ensurePeerWeights } from '../src/backends/peer.js';
import { ensureModel } from '../src/onnx/modelFile.js';
import { prepareReference } from '../src/run/correctness.js';
import { runOptionsFrom } from '../src/run/options.js';
import { planRun } from '../src/run/plan.js';
import { makeInputs } from '../src/workloads/tensors.js';

const argv = yargs(process.argv.slice(2)).parserConfiguration({ 'camel-case-expansion': true }).strict(false).parseSync();
const [shard, shards] = String(argv.shard ?? '0/1')
  .split('/')
  .map(Number);
if (!(shards >= 1 && shard >= 0 && shard < shards)) throw new Error(`--shard I/N with 0 ≤ I < N, got ${String(argv.shard)}`);
const engines = String(argv.for ?? 'onnx,peer').split(',');
const { shard: _shard, for: _for, _: _args, $0: _script, ...runArgs } = argv;
const options = runOptionsFrom(runArgs);
const cases = planRun(options).cases.filter((_, i) => i % shards === shard);
for (const c of cases) {
  const start = performance.now();
  const inputs = makeInputs(c);
  prepareReference(c, inputs, options.modelDir);
  if (engines.includes('onnx')) ensureModel(c, options.modelDir);
  if (engines.includes('peer')) ensurePeerWeights(c, options.modelDir);
  console.error(`prepared ${c.id} in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}
