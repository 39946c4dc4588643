/**
 * node dist/bench/prepare.js --suite S [RUN OPTIONS...] --model-dir DIR [--shard I/N] — builds what
 * a run's case processes would otherwise build cold, and caches it in DIR: each case's ONNX model
 * and its float64 reference rows (up to a minute of single-threaded JS for a real-shape case). It
 * measures nothing, so it can run beside another engine's cases or, sharded, on several cores at
 * once ahead of a short GPU sitting (scripts/gpu-session.sh sitting). The cases are planned by
 * `run`'s own options code, so they are the cases the run will look up.
 */
import { performance } from 'node:perf_hooks';
import yargs from 'yargs';
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
const { shard: _shard, _: _args, $0: _script, ...runArgs } = argv;
const options = runOptionsFrom(runArgs);
const cases = planRun(options).cases.filter((_, i) => i % shards === shard);
for (const c of cases) {
  const start = performance.now();
  const inputs = makeInputs(c);
  ensureModel(c, options.modelDir);
  prepareReference(c, inputs, options.modelDir);
  console.error(`prepared ${c.id} in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}
