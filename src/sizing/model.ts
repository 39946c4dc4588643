import { assumption, type Scenario, type Stream } from './scenario.js';
import type { Range } from './range.js';

const SECONDS_PER_DAY = 86_400;

/** Per-card figures the model runs on; replaced by measured ones when calibrating. */
export interface CardFigures {
  prefillTokensPerSecPerCard: Range;
  decodeTokensPerSecPerCard: Range;
  utilization: Range;
  cardsPerServer: Range;
}

export interface StreamSizing {
  name: string;
  inputTokensPerDay: Range;
  outputTokensPerDay: Range;
  peakInputTokensPerSec: Range;
  peakOutputTokensPerSec: Range;
  /** Card-equivalents, unrounded: (peak in / prefill + peak out / decode) / utilization. */
  cardsExact: Range;
  /** Card-equivalents spent on prefill and on decode (they add up to cardsExact). */
  prefillCardsExact: Range;
  decodeCardsExact: Range;
  /** Whole cards: cardsExact rounded up. */
  cards: Range;
  /** Whole servers: cards / cards per server, rounded up. */
  servers: Range;
  cost?: StreamCost;
}

export interface StreamCost {
  currency: string;
  perDay: Range;
  /** Card time spent on prefill (decode) divided by the input (output) tokens it serves. */
  perMillionInputTokens: Range;
  perMillionOutputTokens: Range;
}

export interface Sizing {
  streams: StreamSizing[];
  total: Pick<StreamSizing, 'cardsExact' | 'cards' | 'servers'> & { costPerDay?: Range };
}

/** Which end of each input gives the low (fewest cards) answer: demand low, throughput high. */
type Pick2 = 'low' | 'high';
const other = (p: Pick2): Pick2 => (p === 'low' ? 'high' : 'low');

export function cardFiguresOf(s: Scenario): CardFigures {
  return {
    prefillTokensPerSecPerCard: assumption(s.card.prefillTokensPerSecPerCard),
    decodeTokensPerSecPerCard: assumption(s.card.decodeTokensPerSecPerCard),
    utilization: assumption(s.card.utilization),
    cardsPerServer: assumption(s.card.cardsPerServer),
  };
}

/** Daily tokens of a stream at one end of its ranges. */
export function tokensPerDay(stream: Stream, end: Pick2): { input: number; output: number } {
  const v = (f: Stream['inputTokensPerDay']) => assumption(f!)[end];
  if (stream.inputTokensPerDay !== undefined) return { input: v(stream.inputTokensPerDay), output: v(stream.outputTokensPerDay) };
  const queries = v(stream.unitsPerDay) * v(stream.queriesPerUnit);
  return { input: queries * v(stream.inputTokensPerQuery), output: queries * v(stream.outputTokensPerQuery) };
}

function sizeAt(stream: Stream, card: CardFigures, end: Pick2) {
  const demand = tokensPerDay(stream, end);
  const peak = assumption(stream.peakToAverage)[end];
  const best = other(end);
  const peakIn = (demand.input / SECONDS_PER_DAY) * peak;
  const peakOut = (demand.output / SECONDS_PER_DAY) * peak;
  const util = card.utilization[best];
  const prefillCards = peakIn / card.prefillTokensPerSecPerCard[best] / util;
  const decodeCards = peakOut / card.decodeTokensPerSecPerCard[best] / util;
  const cardsExact = prefillCards + decodeCards;
  const cards = Math.ceil(cardsExact - 1e-9);
  const servers = Math.ceil(cards / card.cardsPerServer[best] - 1e-9);
  return { demand, peakIn, peakOut, prefillCards, decodeCards, cardsExact, cards, servers };
}

/** Demand and per-card throughput → cards, servers and cost, low and high, per stream and in total. Pure. */
export function sizeScenario(s: Scenario, card: CardFigures = cardFiguresOf(s)): Sizing {
  const streams = s.streams.map((stream): StreamSizing => {
    const lo = sizeAt(stream, card, 'low');
    const hi = sizeAt(stream, card, 'high');
    const r = (f: (x: typeof lo) => number): Range => ({ low: f(lo), high: f(hi) });
    const sized: StreamSizing = {
      name: stream.name,
      inputTokensPerDay: r((x) => x.demand.input),
      outputTokensPerDay: r((x) => x.demand.output),
      peakInputTokensPerSec: r((x) => x.peakIn),
      peakOutputTokensPerSec: r((x) => x.peakOut),
      cardsExact: r((x) => x.cardsExact),
      prefillCardsExact: r((x) => x.prefillCards),
      decodeCardsExact: r((x) => x.decodeCards),
      cards: r((x) => x.cards),
      servers: r((x) => x.servers),
    };
    if (s.cost) {
      const price = assumption(s.cost.cardHourPrice);
      // the low answer pairs the fewest cards with the lowest price
      const perDay = { low: lo.cards * 24 * price.low, high: hi.cards * 24 * price.high };
      const perM = (cards: number, tokens: number, p: number) => (cards * 24 * p) / (tokens / 1e6);
      sized.cost = {
        currency: s.cost.currency,
        perDay,
        perMillionInputTokens: { low: perM(lo.prefillCards, lo.demand.input, price.low), high: perM(hi.prefillCards, hi.demand.input, price.high) },
        perMillionOutputTokens: { low: perM(lo.decodeCards, lo.demand.output, price.low), high: perM(hi.decodeCards, hi.demand.output, price.high) },
      };
    }
    return sized;
  });
  const sum = (f: (x: StreamSizing) => Range): Range => ({
    low: streams.reduce((a, x) => a + f(x).low, 0),
    high: streams.reduce((a, x) => a + f(x).high, 0),
  });
  return {
    streams,
    total: {
      cardsExact: sum((x) => x.cardsExact),
      cards: sum((x) => x.cards),
      servers: sum((x) => x.servers),
      ...(s.cost ? { costPerDay: sum((x) => x.cost!.perDay) } : {}),
    },
  };
}
