import { fmt, formatTable, wrap } from '../text/table.js';
import type { Preset } from '../workloads/presets.js';
import type { Suite } from '../workloads/plan.js';

/** `moebench presets`: each model's shapes, layer counts, experts and work per token. Pure. */
export function presetsTable(presets: Preset[]): string {
  const rows = [['preset', 'layers (dense + MoE)', 'hidden', 'FFN', 'experts (k, shared)', 'params', 'active', 'GFLOP/token']];
  for (const p of presets) {
    const m = p.model;
    const hidden = p.moe?.hiddenSize ?? p.dense?.hiddenSize ?? p.matmul?.hiddenSize ?? 0;
    const ffn = [
      p.dense ? `dense ${p.dense.intermediateSize}` : '',
      p.moe ? `expert ${p.moe.expertIntermediateSize}` : '',
      // the roofline probe (tiny has one for the tests): its chain of square products
      p.matmul && !m ? `${p.matmul.depth} × matmul ${p.matmul.hiddenSize}²` : '',
    ]
      .filter(Boolean)
      .join(', ');
    // two FLOPs per active parameter, before attention over the context; the probe's two per weight
    const flopsPerToken = m ? 2 * m.activeParams : p.matmul ? 2 * p.matmul.depth * p.matmul.hiddenSize ** 2 : 0;
    rows.push([
      p.name,
      m ? `${m.numDenseLayers} + ${m.numMoeLayers}` : '-',
      String(hidden),
      ffn,
      p.moe ? `${p.moe.numExperts} (${p.moe.topK}, ${p.moe.numSharedExperts})` : '-',
      params(m?.totalParams ?? 0),
      params(m?.activeParams ?? 0),
      flopsPerToken ? fmt(flopsPerToken / 1e9, 3) : '-',
    ]);
  }
  return `${formatTable(rows, [false, true, true, false, false, true, true, true])}\n\n${presets.flatMap((p) => wrap(`${p.name}: ${p.description} (${p.source})`)).join('\n')}`;
}

/** `moebench suites`: what each suite runs, in how many processes, within what budget. Pure. */
export function suitesTable(suites: { suite: Suite; cases: number; processes: number }[]): string {
  const rows = [['suite', 'cases', 'processes per case', 'time budget', 'backend']];
  for (const { suite, cases, processes } of suites)
    rows.push([
      suite.name,
      String(cases),
      String(processes),
      suite.timeBudgetS ? `${suite.timeBudgetS} s` : 'none (runs until each case converges)',
      suite.backend,
    ]);
  return `${formatTable(rows, [false, true, true, false, false])}\n\n${suites.flatMap(({ suite }) => wrap(`${suite.name}: ${suite.description}`)).join('\n')}`;
}

/** 671 B, 37.0 B, 100 k: what a model card says, not 6.71e+11. */
function params(n: number): string {
  if (!n) return '-';
  const [div, unit] = n >= 1e9 ? [1e9, 'B'] : n >= 1e6 ? [1e6, 'M'] : [1e3, 'k'];
  return `${(n / div).toPrecision(3)} ${unit}`;
}
