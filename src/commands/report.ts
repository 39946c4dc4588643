import { ensureDir } from '../fsUtil.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { compareRuns, COMPARE_DEFAULTS } from '../compare/compare.js';
import { UsageError } from '../errors.js';
import { renderReport, type ReportSizing } from '../report/html.js';
import { loadRuns, type Run } from '../results/runs.js';
import { cardFiguresOf, sizeScenario } from '../sizing/model.js';
import { compose, COMPOSE_DEFAULTS, parseLayout } from '../sizing/compose.js';
import { loadScenario } from '../sizing/scenario.js';
import type { Io } from './io.js';

const require = createRequire(import.meta.url);

export interface ReportOptions {
  out: string;
  scenario?: string;
  model: string;
  layout: string;
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
  for (const run of runs) {
    try {
      const c = compose(run, run.source, { model: o.model, layout: parseLayout(o.layout), contextTokens: COMPOSE_DEFAULTS.contextTokens, linkGBps: COMPOSE_DEFAULTS.linkGBps });
      add(`measured: ${c.card} (${run.source})`, sizeScenario(scenario, {
        ...cardFiguresOf(scenario),
        prefillTokensPerSecPerCard: { low: c.prefill.tokensPerSecPerCard, high: c.prefill.tokensPerSecPerCard },
        decodeTokensPerSecPerCard: { low: c.decode.tokensPerSecPerCard, high: c.decode.tokensPerSecPerCard },
      }));
    } catch (err) {
      notes.push(`${run.source}: not sized: ${(err as Error).message}`);
    }
  }
  return { scenario: scenario.name, rows, notes };
}

/** `moebench report DIR --out report.html`: one self-contained page of charts and tables. */
export async function reportCommand(paths: string[], o: ReportOptions, io: Io): Promise<number> {
  const { runs, bad } = loadRuns(paths);
  for (const b of bad) io.err(`moebench: skipped ${b.path}: ${b.reason}`);
  if (runs.length === 0) throw new UsageError(`no readable result files in ${paths.join(', ')}`);
  const comparison = compareRuns(runs, { ...COMPARE_DEFAULTS });
  // the UMD build defines a global Chart and needs no module loader in the page
  const chartJs = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.js'), 'utf8');
  const html = renderReport({
    title: `moebench report: ${paths.join(', ')}`, runs, bad, generatedAt: new Date().toISOString(),
    comparison: comparison.sides.length > 1 ? comparison : undefined, sizing: sizingFor(runs, o),
  }, chartJs);
  try {
    ensureDir(dirname(o.out));
    writeFileSync(o.out, html);
  } catch (err) {
    throw new UsageError(`cannot write ${o.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  io.out(`${o.out}: ${runs.length} run(s), ${runs.reduce((a, r) => a + r.cases.length, 0)} case(s)${bad.length ? `, ${bad.length} unreadable file(s) named on the page` : ''}`);
  return bad.length ? 1 : 0;
}
