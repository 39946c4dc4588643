import { loadingNotes, loadRuns } from '../results/runs.js';
import { sizeScenario } from '../sizing/model.js';
import { parseLayout } from '../sizing/compose.js';
import { sizeFromRun } from '../sizing/measured.js';
import { loadScenario } from '../sizing/scenario.js';
import { tornado } from '../sizing/tornado.js';
import { compositionText, costTable, measuredSideBySide, sizingJson, sizingTable, tornadoTable } from '../report/sizing.js';
import type { Io } from './io.js';

export interface SizeOptions {
  scenario: string;
  json: boolean;
  from: string[];
  model: string;
  layout: string;
  contextTokens: number;
  linkGBps?: number;
  card?: string;
}

/** `moebench size`: a scenario's demand and per-card figures → cards, servers, cost, sensitivity; with --from, measured figures beside the assumed ones. */
export async function sizeCommand(o: SizeOptions, io: Io): Promise<number> {
  const scenario = loadScenario(o.scenario);
  const assumed = sizeScenario(scenario);
  const layout = parseLayout(o.layout);
  const loaded = o.from.length ? loadRuns(o.from) : { runs: [], bad: [], conflicts: [] };
  for (const line of loadingNotes(loaded)) io.err(line);
  if (o.from.length && !loaded.runs.length)
    io.err(`moebench: no readable result files in ${o.from.join(', ')}: only the scenario's assumed figures are sized`);
  const composeOptions = { model: o.model, layout, contextTokens: o.contextTokens, linkGBps: o.linkGBps, card: o.card };
  const measured = loaded.runs.map((run) => sizeFromRun(scenario, run, run.source, composeOptions));
  if (o.json) {
    io.out(
      JSON.stringify(
        {
          scenario: scenario.name,
          ...sizingJson(assumed),
          sensitivity: tornado(scenario),
          measured: measured.map((m) => ({
            card: m.composition.card,
            file: m.composition.file,
            composition: { ...m.composition, peak: undefined },
            ...sizingJson(m.sizing),
          })),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const parts = [
    `scenario ${scenario.name}${scenario.description ? `: ${scenario.description}` : ''}`,
    '',
    sizingTable(scenario, assumed, 'cards and servers (assumed per-card throughput)'),
    '',
    costTable(scenario, assumed),
    '',
    tornadoTable(tornado(scenario)),
  ];
  for (const m of measured) parts.push('', compositionText(m.composition));
  if (measured.length) parts.push('', measuredSideBySide(scenario, assumed, measured));
  io.out(parts.join('\n'));
  return 0;
}
