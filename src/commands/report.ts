import { writeFileDurable } from '../files/durable.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chosenSidesLine, compareBySides, COMPARE_DEFAULTS } from '../compare/compare.js';
import { UsageError } from '../errors.js';
import { renderReport, type ReportSizing } from '../report/html.js';
import { onceEach } from '../results/merge.js';
import { isMeasured } from '../results/repetitions.js';
import { loadingNotes, loadRuns, refuseInputAsOut, type Run } from '../results/runs.js';
import { sizeScenario } from '../sizing/model.js';
import { parseLayout } from '../sizing/compose.js';
import { poolByCard, sizeFromRun } from '../sizing/measured.js';
import { loadScenario } from '../sizing/scenario.js';
import { tornado } from '../sizing/tornado.js';
import { costTable, measuredLabel, tornadoTable } from '../report/sizing.js';
import type { Io } from './io.js';

const require = createRequire(import.meta.url);

export interface ReportOptions {
  out: string;
  scenario?: string;
  model: string;
  layout: string;
  /** As for `size`: context tokens per decoded token, all-to-all GB/s per card, the card to size for. */
  contextTokens: number;
  linkGBps?: number;
  card?: string;
  /** As for `size`: the files' decode composed alone, the scenario's assumed prefill figure beside it. */
  decodeOnly?: boolean;
  /** What tells the comparison's sides apart, as for compare: card unless told, as compareBySides chooses. */
  by?: string;
}

function sizingFor(runs: Run[], o: ReportOptions): ReportSizing | undefined {
  if (!o.scenario) return undefined;
  const scenario = loadScenario(o.scenario);
  const rows: ReportSizing['rows'] = [];
  const notes: string[] = [];
  const add = (label: string, s: ReturnType<typeof sizeScenario>) => {
    for (const x of s.streams) rows.push({ label, stream: x.name, cards: [x.cards.low, x.cards.high], servers: [x.servers.low, x.servers.high] });
  };
  add('assumed', sizeScenario(scenario));
  const composeOptions = {
    model: o.model,
    layout: parseLayout(o.layout),
    contextTokens: o.contextTokens,
    linkGBps: o.linkGBps,
    card: o.card,
    decodeOnly: o.decodeOnly,
  };
  for (const { run, source } of poolByCard(runs)) {
    try {
      const m = sizeFromRun(scenario, run, source, composeOptions);
      add(`${measuredLabel(m.composition)} (${source})`, m.sizing);
    } catch (err) {
      // a run that cannot be sized is named on the page; anything but bad input is a bug
      if (!(err instanceof UsageError)) throw err;
      notes.push(`${source}: not sized: ${err.message}`);
    }
  }
  return {
    scenario: scenario.name,
    model: o.model,
    layout: o.layout,
    rows,
    notes,
    costText: costTable(scenario, sizeScenario(scenario)),
    tornadoText: tornadoTable(tornado(scenario)),
  };
}

/** `moebench report DIR --out report.html`: one self-contained page of charts and tables. */
export async function reportCommand(paths: string[], o: ReportOptions, io: Io): Promise<number> {
  refuseInputAsOut(o.out, paths, 'report');
  const loaded = loadRuns(paths);
  const { bad } = loaded;
  for (const line of loadingNotes(loaded)) io.err(line);
  // a Slurm results folder holds each task's file and the collection merged from them: the page's
  // tables show each measurement once, while the comparison, as compare does, counts it once within
  // a side and still compares a file against its copy on two sides
  const { runs, repeated } = onceEach(loaded.runs);
  if (repeated)
    io.err(`moebench: ${repeated} measurement(s) given more than once (a run's file and a collection holding it, or a copy) are shown once`);
  if (runs.length === 0) throw new UsageError(`no readable result files in ${paths.join(', ')}`);
  // a page of failed or skipped cases still shows them; there is just nothing to compare
  const measured = runs.some((r) => r.cases.some(isMeasured));
  const sided = measured ? compareBySides(loaded.runs, { ...COMPARE_DEFAULTS, ...(o.by ? { by: o.by } : {}) }, o.by !== undefined) : undefined;
  if (sided?.allFrom && sided.chosen) io.err(chosenSidesLine(sided.allFrom, sided.chosen));
  const comparison = sided?.comparison;
  // the UMD build defines a global Chart and needs no module loader in the page
  const chartJs = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.js'), 'utf8');
  const html = renderReport(
    {
      title: `moebench report: ${paths.join(', ')}`,
      runs,
      bad,
      slurmTasks: loaded.slurmTasks,
      generatedAt: new Date().toISOString(),
      comparison: comparison && comparison.sides.length > 1 ? comparison : undefined,
      sizing: sizingFor(runs, o),
    },
    chartJs,
  );
  writeFileDurable(o.out, html, 'report');
  io.out(
    `${o.out}: ${runs.length} run(s), ${runs.reduce((a, r) => a + r.cases.length, 0)} case(s)${bad.length ? `, ${bad.length} unreadable file(s) named on the page` : ''}`,
  );
  return bad.length ? 1 : 0;
}
