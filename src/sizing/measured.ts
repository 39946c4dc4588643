import { compose, type ComposeOptions, type Composition, type MeasuredRun } from './compose.js';
import { cardFiguresOf, sizeScenario, type CardFigures, type Sizing } from './model.js';
import type { Scenario } from './scenario.js';

/** A scenario sized with the per-card throughput composed from one run's measured layers. */
export interface MeasuredSizing {
  composition: Composition;
  card: CardFigures;
  sizing: Sizing;
}

/**
 * The one measured-composition step, shared by `size --from` and `report --scenario`: a run's
 * cases → the model's per-card prefill and decode throughput → the scenario's cards and servers.
 * Pure; errors (a missing case, a card without peaks) are UsageErrors naming what to run.
 */
export function sizeFromRun(scenario: Scenario, run: MeasuredRun, source: string, o: ComposeOptions): MeasuredSizing {
  const composition = compose(run, source, o);
  const card: CardFigures = {
    ...cardFiguresOf(scenario),
    prefillTokensPerSecPerCard: { low: composition.prefill.tokensPerSecPerCard, high: composition.prefill.tokensPerSecPerCard },
    decodeTokensPerSecPerCard: { low: composition.decode.tokensPerSecPerCard, high: composition.decode.tokensPerSecPerCard },
  };
  return { composition, card, sizing: sizeScenario(scenario, card) };
}
