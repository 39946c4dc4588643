import type { PhaseBound } from '../sizing/roofline.js';
import type { Composition } from '../sizing/compose.js';
import type { Sizing } from '../sizing/model.js';
import type { Range } from '../sizing/range.js';
import { assumption, type Scenario } from '../sizing/scenario.js';
import type { TornadoBar } from '../sizing/tornado.js';
import { fmt, formatTable, TERMINAL_COLUMNS, wrap } from '../text/table.js';

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const r = (x: Range, f: (n: number) => string = int) => (x.low === x.high ? f(x.low) : `${f(x.low)} – ${f(x.high)}`);
const money = (x: number) => x.toFixed(2);

/** The `moebench size --json` shape: per stream and total, low and high. Pure. */
export function sizingJson(s: Sizing) {
  return {
    streams: s.streams.map((x) => ({
      name: x.name,
      cards: x.cards,
      cardsExact: x.cardsExact,
      servers: x.servers,
      prefillCardsExact: x.prefillCardsExact,
      decodeCardsExact: x.decodeCardsExact,
      peakInputTokensPerSec: x.peakInputTokensPerSec,
      peakOutputTokensPerSec: x.peakOutputTokensPerSec,
      ...(x.cost ? { cost: x.cost } : {}),
    })),
    total: s.total,
  };
}

/** Cards and servers per stream, next to the published table when the scenario has one. */
export function sizingTable(scenario: Scenario, s: Sizing, title = 'cards and servers'): string {
  const published = new Map((scenario.published ?? []).map((p) => [p.name, p]));
  const rows = [['stream', 'card-equivalents', 'cards', 'servers', ...(published.size ? ['published cards', 'published servers'] : [])]];
  for (const x of s.streams) {
    const p = published.get(x.name);
    rows.push([
      x.name,
      r(x.cardsExact, (n) => n.toFixed(1)),
      r(x.cards),
      r(x.servers),
      ...(published.size ? [p ? r(p.cards) : '-', p ? r(p.servers) : '-'] : []),
    ]);
  }
  rows.push(['total', r(s.total.cardsExact, (n) => n.toFixed(1)), r(s.total.cards), r(s.total.servers), ...(published.size ? ['', ''] : [])]);
  return `${title}\n${formatTable(rows, [false, true, true, true, true, true])}`;
}

/** Cost per day and per million tokens, beside the API prices. */
export function costTable(scenario: Scenario, s: Sizing): string {
  if (!scenario.cost) return '';
  const cur = scenario.cost.currency;
  const rows = [['stream', `${cur} per day`, `${cur} per M input tokens`, `${cur} per M output tokens`]];
  for (const x of s.streams)
    if (x.cost) rows.push([x.name, r(x.cost.perDay), r(x.cost.perMillionInputTokens, money), r(x.cost.perMillionOutputTokens, money)]);
  const api = scenario.cost.apiPrices;
  if (api) {
    rows.push(['API price (published)', '', r(assumption(api.inputPerMillion), money), r(assumption(api.outputPerMillion), money)]);
  }
  return `cost\n${formatTable(rows, [false, true, true, true])}`;
}

export function tornadoTable(bars: TornadoBar[]): string {
  const rows = [['input', 'low', 'high', 'cards at low', 'cards at high', 'swing']];
  for (const b of bars) {
    rows.push([
      `${b.input}${b.synthetic ? ' (±25%)' : ''}`,
      fmt(b.lowValue, 4),
      fmt(b.highValue, 4),
      int(b.cardsAtLow),
      int(b.cardsAtHigh),
      int(b.swing),
    ]);
  }
  return `sensitivity (each input at its low and high, the others at their midpoints)\n${formatTable(rows, [false, true, true, true, true, true])}`;
}

/** A measured card's figures named, saying when its prefill is the scenario's assumed one (--decode-only). */
export const measuredLabel = (c: Pick<Composition, 'card' | 'prefill'>) => `measured: ${c.card}${c.prefill ? '' : ' (decode; prefill assumed)'}`;

/** How the per-card throughput was composed, term by term, each with its source. */
export function compositionText(c: Composition): string {
  const lines = [
    ...wrap(`per-card throughput of ${c.model} on ${c.card}, layout ep=${c.layout.ep},tp=${c.layout.tp}, from ${c.file}`),
    `weights per card ${c.memory.weightsGiBPerCard.toFixed(1)} GiB of ${c.memory.cardGiB} GiB`,
  ];
  if (!c.prefill) lines.push('', "prefill: not composed (--decode-only): the scenario's assumed per-card prefill figure stands");
  for (const p of c.prefill ? [c.prefill, c.decode] : [c.decode]) {
    const rows = [['term', 'layers', 'ms per layer', 'ms per step', 'kind']];
    for (const t of p.terms) rows.push([t.name, String(t.layers), fmt(t.perLayerMs, 4), fmt(t.totalMs, 4), t.kind]);
    lines.push(
      '',
      `${p.phase}: ${p.tokensPerStepPerCard} tokens per card per step, step ${fmt(p.stepMs, 4)} ms → ${fmt(p.tokensPerSecPerCard, 4)} tokens/s per card`,
    );
    lines.push(formatTable(rows, [false, true, true, true, false]));
    // each term's source, a file and case or how it was estimated, runs to 350 characters: below
    // the table, wrapped, rather than a column that pushes the table off the terminal
    for (const t of p.terms) lines.push(...wrap(`  ${t.name}: ${t.source}`, TERMINAL_COLUMNS, '    '));
  }
  const kinds = new Set([...(c.prefill?.terms ?? []), ...c.decode.terms].map((t) => t.kind));
  if (kinds.has('extrapolated') || kinds.has('interpolated'))
    lines.push('', 'note: some terms are not measured on this card and shape (kind column): read them as estimates');
  return lines.join('\n');
}

/** The datasheet-only upper bound, per phase and mode, with what limits it and what it rests on. */
export function boundsText(title: string, bounds: { prefill: PhaseBound; decode: PhaseBound }[]): string {
  const rows = [['phase', 'mode', 'tokens/s per card', 'limited by', 'compute ms/token', 'memory ms/token', 'link ms/token']];
  for (const b of bounds.flatMap((x) => [x.prefill, x.decode]))
    rows.push([
      b.phase,
      b.mode,
      fmt(b.tokensPerSecPerCard, 4),
      b.limitedBy,
      fmt(b.perTokenMs.compute, 3),
      fmt(b.perTokenMs.memory, 3),
      fmt(b.perTokenMs.link, 3),
    ]);
  const sources = [...new Set(bounds.flatMap((x) => [x.prefill.source, x.decode.source]))];
  return [
    ...wrap(title),
    formatTable(rows, [false, false, true, false, true, true, true]),
    ...sources.flatMap((s) => wrap(`  ${s}`, TERMINAL_COLUMNS, '    ')),
  ].join('\n');
}

/**
 * Assumed, measured and roofline-bound per-card throughput side by side: cards, servers and cost
 * per stream. Each set of figures is named on a line of its own above its streams' rows: a name
 * ("roofline bound (fp8): NVIDIA H100 SXM5 80GB", a CPU's measured ceilings) in a column of its
 * own pushed the table past a terminal's 120 columns.
 */
export function measuredSideBySide(
  scenario: Scenario,
  assumed: Sizing,
  measured: { composition: Composition; sizing: Sizing }[],
  bounds: { label: string; prefill: number; decode: number; sizing: Sizing }[] = [],
): string {
  const head = ['stream', 'prefill tok/s', 'decode tok/s', 'cards', 'servers', ...(scenario.cost ? [`${scenario.cost.currency} per day`] : [])];
  const groups: { label: string; rows: string[][] }[] = [];
  const card = (s: Sizing, label: string, prefill: string, decode: string) =>
    groups.push({
      label,
      rows: s.streams.map((x) => [`  ${x.name}`, prefill, decode, r(x.cards), r(x.servers), ...(x.cost ? [r(x.cost.perDay)] : [])]),
    });
  const a = scenario.card;
  const fig = (f: typeof a.prefillTokensPerSecPerCard) => r(assumption(f), (n) => fmt(n, 4));
  // the scenario's own figures, labelled by their basis (seed-api-price's decode figure is derived, not assumed)
  const bases = [...new Set([a.prefillTokensPerSecPerCard, a.decodeTokensPerSecPerCard].map((f) => (typeof f === 'object' && f.basis) || 'assumed'))];
  card(assumed, bases.join(', '), fig(a.prefillTokensPerSecPerCard), fig(a.decodeTokensPerSecPerCard));
  for (const m of measured)
    card(
      m.sizing,
      // decode alone measured: the prefill column is the scenario's own figure, and the name says so
      measuredLabel(m.composition),
      m.composition.prefill ? fmt(m.composition.prefill.tokensPerSecPerCard, 4) : fig(a.prefillTokensPerSecPerCard),
      fmt(m.composition.decode.tokensPerSecPerCard, 4),
    );
  // an assumption above the bound is one the card cannot physically meet
  for (const b of bounds) card(b.sizing, b.label, fmt(b.prefill, 4), fmt(b.decode, 4));
  const [headLine, rule, ...rowLines] = formatTable([head, ...groups.flatMap((g) => g.rows)], [false, true, true, true, true, true]).split('\n');
  const body = groups.flatMap((g) => [...wrap(g.label), ...rowLines.splice(0, g.rows.length)]);
  const title = `assumed${measured.length ? ' vs measured' : ''}${bounds.length ? ' vs roofline-bound' : ''} per-card throughput (same demand, utilization and cards per server; the bound is the fewest cards physics allows)`;
  return [...wrap(title), headLine, rule, ...body].join('\n');
}
