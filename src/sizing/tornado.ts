import { assumption, type Figure, type Scenario } from './scenario.js';
import { sizeScenario } from './model.js';

export interface TornadoBar {
  /** Path of the input in the scenario, e.g. "streams.user.queriesPerUnit". */
  input: string;
  lowValue: number;
  highValue: number;
  /** Total card-equivalents with this input at its low (high) end and every other input at its midpoint. */
  cardsAtLow: number;
  cardsAtHigh: number;
  /** |cardsAtHigh − cardsAtLow|: how far this input alone moves the answer. */
  swing: number;
  /** The input had no range; it was moved ±swingFraction around its value. */
  synthetic: boolean;
}

/** Inputs that move the card count (cardsPerServer moves servers only). */
const STREAM_INPUTS = [
  'inputTokensPerDay',
  'outputTokensPerDay',
  'unitsPerDay',
  'queriesPerUnit',
  'inputTokensPerQuery',
  'outputTokensPerQuery',
  'peakToAverage',
] as const;
const CARD_INPUTS = ['prefillTokensPerSecPerCard', 'decodeTokensPerSecPerCard', 'utilization'] as const;

function midpoints(s: Scenario): Scenario {
  const m = (f: Figure) => {
    const a = assumption(f);
    return (a.low + a.high) / 2;
  };
  return {
    ...s,
    streams: s.streams.map(
      (st) => Object.fromEntries(Object.entries(st).map(([k, v]) => [k, typeof v === 'string' ? v : m(v as Figure)])) as typeof st,
    ),
    card: Object.fromEntries(Object.entries(s.card).map(([k, v]) => [k, typeof v === 'string' ? v : m(v as Figure)])) as Scenario['card'],
  };
}

/**
 * A tornado table: each input at its low and high end with the others at their
 * midpoints, ranked by how much it alone moves the total card count. Inputs given
 * as a single number are moved ±swingFraction. Pure.
 */
export function tornado(s: Scenario, swingFraction = 0.25): TornadoBar[] {
  const base = midpoints(s);
  const total = (sc: Scenario) => sizeScenario(sc).total.cardsExact.low;
  const bars: TornadoBar[] = [];
  const bar = (input: string, figure: Figure, set: (v: number) => Scenario, max = Infinity) => {
    const a = assumption(figure);
    const synthetic = a.low === a.high;
    const [lo, hi] = synthetic ? [a.low * (1 - swingFraction), Math.min(max, a.low * (1 + swingFraction))] : [a.low, a.high];
    const cardsAtLow = total(set(lo));
    const cardsAtHigh = total(set(hi));
    bars.push({ input, lowValue: lo, highValue: hi, cardsAtLow, cardsAtHigh, swing: Math.abs(cardsAtHigh - cardsAtLow), synthetic });
  };
  s.streams.forEach((stream, i) => {
    for (const key of STREAM_INPUTS) {
      const figure = stream[key];
      if (figure === undefined) continue;
      bar(`streams.${stream.name}.${key}`, figure, (v) => ({ ...base, streams: base.streams.map((st, j) => (j === i ? { ...st, [key]: v } : st)) }));
    }
  });
  for (const key of CARD_INPUTS) {
    const figure = s.card[key];
    // utilization cannot be pushed past 1
    bar(`card.${key}`, figure, (v) => ({ ...base, card: { ...base.card, [key]: v } }), key === 'utilization' ? 1 : Infinity);
  }
  return bars.sort((a, b) => b.swing - a.swing);
}
