import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../files/projectRoot.js';
import { presetsTable, suitesTable } from '../report/catalog.js';
import { RUN_DEFAULTS, runOptionsFrom } from '../run/options.js';
import { planRun } from '../run/plan.js';
import { PRESETS } from '../workloads/presets.js';
import { loadSuite } from '../workloads/plan.js';
import type { Io } from './io.js';

/** `moebench presets`: the model shapes --preset and --model take. */
export async function presetsCommand(io: Io): Promise<number> {
  io.out(presetsTable(Object.values(PRESETS)));
  return 0;
}

/** `moebench suites`: the suites in bench/suites and what each runs. */
export async function suitesCommand(io: Io): Promise<number> {
  const names = readdirSync(join(projectRoot(), 'bench', 'suites'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
  const suites = names.map((name) => {
    const suite = loadSuite(name);
    const cases = planRun(runOptionsFrom({ suite: name })).cases.length;
    return { suite, cases, processes: suite.repetitions ?? RUN_DEFAULTS.repetitions };
  });
  io.out(suitesTable(suites));
  return 0;
}
