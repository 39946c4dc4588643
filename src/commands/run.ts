import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { resolveBackend } from '../backends/registry.js';
import { UsageError } from '../errors.js';
import { captureEnvironment, describeDevice } from '../env/machine.js';
import { queryGpus } from '../env/gpus.js';
import { executeCase, gpuReader } from '../execute.js';
import { hrClock } from '../measure/clock.js';
import { planRun, type RunOptions } from '../options.js';
import { caseTable, planTable } from '../report/table.js';
import { ResultSession } from '../results/session.js';
import { accountFor } from '../workloads/accounting.js';
import type { Io } from './io.js';

export function defaultResultPath(outDir: string, backend: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const host = os.hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
  return join(outDir, `${stamp}-${host}-${backend}.json`);
}

function openSession(path: string, create: () => ResultSession): ResultSession {
  try {
    mkdirSync(dirname(path), { recursive: true });
    return create();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new UsageError(`cannot write result file ${path}: ${code}`);
    throw err;
  }
}

/** `moebench run`: plan → backend → per-case execution → result file → table. Returns the exit code. */
export async function runCommand(o: RunOptions, io: Io, resumePath?: string): Promise<number> {
  let options = o;
  let session: ResultSession | undefined;
  if (resumePath) {
    session = openSession(resumePath, () => ResultSession.resume(resumePath));
    options = { ...(session.run.options as unknown as RunOptions), json: o.json };
  }
  const plan = planRun(options);

  if (options.dryRun) {
    const planned = plan.cases.map((c) => ({ case: c, work: accountFor(c) }));
    io.out(options.json ? JSON.stringify({ backend: plan.backend, cases: planned.map((p) => ({ ...p.case, ...p.work })) }, null, 2) : planTable(planned));
    return 0;
  }

  const resolved = await resolveBackend(resumePath ? session!.run.backend : plan.backend);
  const backend = resolved.backend;
  for (const s of resolved.skipped) io.err(`auto: skipped ${s.name} (${s.reason})`);
  const gpus = queryGpus();
  const device = describeDevice(backend.executionProvider, options.device, gpus);

  if (!session) {
    const path = options.out ?? defaultResultPath(options.outDir, backend.name);
    const environment = captureEnvironment({ commandLine: io.argv, backendsAvailable: [backend.name], gpus, startedAt: new Date().toISOString() });
    session = openSession(path, () => ResultSession.create(path, environment, {
      ...(plan.suite ? { suite: plan.suite.name } : {}), backend: backend.name, device, options: { ...options } as Record<string, unknown>,
    }));
  }
  const done = session.completedIds();
  const todo = plan.cases.filter((c) => !done.has(c.id));
  io.err(`moebench: ${todo.length} case(s) on ${backend.name} (${device})${done.size ? `, ${done.size} already in the file` : ''} → ${session.path}`);

  const stop = io.onInterrupt(() => {
    io.err(`\ninterrupted: ${session!.cases.length} completed case(s) are saved in ${session!.path}; continue with: moebench run --resume ${session!.path}`);
  });
  try {
    for (const [i, c] of todo.entries()) {
      io.err(`[${i + 1}/${todo.length}] ${c.id} ...`);
      const result = await executeCase(c, {
        backend, modelDir: options.modelDir, deviceId: options.device, device,
        sampler: { warmup: options.warmup, stopping: options.stopping, clock: resolved.clock ?? hrClock },
        readGpu: gpus.length ? gpuReader(options.device) : undefined,
      });
      session.add(result);
      const tps = result.throughput ? `${result.throughput.tokensPerSec.toPrecision(4)} tokens/s` : result.error ?? '';
      io.err(`[${i + 1}/${todo.length}] ${c.id}: ${result.status} ${tps}`);
    }
  } finally {
    stop();
  }
  session.finish();
  io.out(options.json ? JSON.stringify({ file: session.path, cases: session.cases }, null, 2) : `${caseTable(session.cases)}\n\nresult file: ${session.path}`);
  return session.cases.some((c) => c.status === 'failed' || c.status === 'invalid') ? 1 : 0;
}
