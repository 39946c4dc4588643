import { cardPeakByName } from '../env/datasheets.js';
import { UsageError } from '../errors.js';
import { loadingNotes, loadRuns } from '../results/runs.js';
import { rooflineBound, type BoundMode } from '../sizing/roofline.js';
import { sizeScenario } from '../sizing/model.js';
import { compose, parseLayout, type Composition, type Layout } from '../sizing/compose.js';
import { poolByCard, sizeAtPerCard, sizeFromRun } from '../sizing/measured.js';
import { loadScenario } from '../sizing/scenario.js';
import { tornado } from '../sizing/tornado.js';
import { boundsText, compositionText, costTable, measuredSideBySide, sizingJson, sizingTable, tornadoTable } from '../report/sizing.js';
import type { Io } from './io.js';
import { wrap } from '../text/table.js';

export interface SizeOptions {
  /** Optional with --roofline, which alone prints the bounds. */
  scenario?: string;
  roofline?: boolean;
  json: boolean;
  from: string[];
  model: string;
  layout: string;
  contextTokens: number;
  linkGBps?: number;
  card?: string;
  /** Compose the files' decode alone; prefill stays the scenario's assumption. */
  decodeOnly?: boolean;
}

/** `moebench size`: a scenario's demand and per-card figures → cards, servers, cost, sensitivity; with --from, measured figures beside the assumed ones. */
export async function sizeCommand(o: SizeOptions, io: Io): Promise<number> {
  const layout = parseLayout(o.layout);
  if (!o.scenario) {
    if (!o.roofline) throw new UsageError('name a --scenario (e.g. seed), or ask for the roofline bounds alone with --roofline --card NAME');
    return boundsOnly(o, layout, io);
  }
  const scenario = loadScenario(o.scenario);
  const assumed = sizeScenario(scenario);
  const { loaded, composeOptions } = fromFiles(o, layout, io);
  if (o.from.length && !loaded.runs.length)
    io.err(`moebench: no readable result files in ${o.from.join(', ')}: only the scenario's assumed figures are sized`);
  const measured = poolByCard(loaded.runs).map(({ run, source }) => sizeFromRun(scenario, run, source, composeOptions));
  const bounds = o.roofline
    ? boundsFor(
        o,
        layout,
        measured.map((m) => m.composition),
      )
    : [];
  const boundSizings = bounds.map((b) => ({
    label: `roofline bound (${b.prefill.mode}): ${b.card}`,
    prefill: b.prefill.tokensPerSecPerCard,
    decode: b.decode.tokensPerSecPerCard,
    sizing: sizeAtPerCard(scenario, b.prefill.tokensPerSecPerCard, b.decode.tokensPerSecPerCard).sizing,
  }));
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
            // the ceilings it was composed with (the datasheet row, or measured), without the name pattern
            composition: { ...m.composition, peak: { ...m.composition.peak, match: undefined } },
            ...sizingJson(m.sizing),
          })),
          ...(bounds.length
            ? { rooflineBound: bounds.map((b, i) => ({ card: b.card, prefill: b.prefill, decode: b.decode, ...sizingJson(boundSizings[i].sizing) })) }
            : {}),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  // the answer first: per-card figures side by side and the cards each implies; then how each was had
  const parts = [
    ...wrap(`scenario ${scenario.name}${scenario.description ? `: ${scenario.description}` : ''}`),
    ...(measured.length || bounds.length ? ['', measuredSideBySide(scenario, assumed, measured, boundSizings)] : []),
    '',
    sizingTable(scenario, assumed, 'cards and servers (assumed per-card throughput)'),
    '',
    costTable(scenario, assumed),
  ];
  for (const m of measured) parts.push('', compositionText(m.composition));
  if (bounds.length) parts.push('', boundsText(boundsTitle(o, layout, bounds), bounds));
  parts.push('', tornadoTable(tornado(scenario)));
  io.out(parts.join('\n'));
  return 0;
}

/** The --from files, read once (what could not be read is said on stderr), and what composing them takes. */
function fromFiles(o: SizeOptions, layout: Layout, io: Io) {
  const loaded = o.from.length ? loadRuns(o.from) : { runs: [], bad: [], conflicts: [], slurmTasks: [] };
  for (const line of loadingNotes(loaded)) io.err(line);
  return {
    loaded,
    composeOptions: { model: o.model, layout, contextTokens: o.contextTokens, linkGBps: o.linkGBps, card: o.card, decodeOnly: o.decodeOnly },
  };
}

type Bound = ReturnType<typeof rooflineBound> & { card: string; measured: boolean };

/** The card(s) to bound: --card, else each card a --from file was measured on; at FP8 and at each measured math mode. */
function boundsFor(o: SizeOptions, layout: Layout, compositions: Composition[]): Bound[] {
  const peaks = o.card ? [cardPeakByName(o.card) ?? unknownCard(o.card)] : [...new Map(compositions.map((c) => [c.peak.name, c.peak])).values()];
  if (!peaks.length) throw new UsageError('--roofline needs a card: name it with --card (e.g. "NVIDIA H800"), or give --from files measured on one');
  const modes = [...new Set<BoundMode>(['fp8', ...compositions.flatMap((c) => c.dtypes)])];
  return peaks.flatMap((peak) =>
    modes
      .filter((mode) => peak.tflops[mode] !== undefined)
      .map((mode) => ({ card: peak.name, measured: Boolean(peak.measured), ...rooflineBound(o.model, peak, layout, mode, o) })),
  );
}

function unknownCard(name: string): never {
  throw new UsageError(`unknown card "${name}": see src/env/datasheets.ts for the cards with datasheet peaks`);
}

function boundsTitle(o: SizeOptions, layout: Layout, bounds: Bound[]): string {
  const basis = bounds.some((b) => b.measured) ? 'the measured ceilings alone, no layer measurement' : 'the datasheet alone, no measurement';
  return `roofline bound of ${o.model} on ${[...new Set(bounds.map((b) => b.card))].join(', ')}, layout ep=${layout.ep}: ${basis}; no system exceeds it`;
}

/** `size --roofline` without a scenario: the per-card prefill and decode bounds alone, at FP8 and at the modes --from files measured. */
function boundsOnly(o: SizeOptions, layout: Layout, io: Io): number {
  const { loaded, composeOptions } = fromFiles(o, layout, io);
  const bounds = boundsFor(
    o,
    layout,
    poolByCard(loaded.runs).map(({ run, source }) => compose(run, source, composeOptions)),
  );
  if (o.json) io.out(JSON.stringify({ model: o.model, layout, rooflineBound: bounds }, null, 2));
  else io.out(boundsText(boundsTitle(o, layout, bounds), bounds));
  return 0;
}
