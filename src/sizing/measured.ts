import { compose, measuredCard, type ComposeOptions, type Composition, type MeasuredRun } from './compose.js';
import type { CaseResult } from '../results/schema.js';
import type { Run } from '../results/runs.js';
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
  // decode alone composed: the scenario's own prefill figure (its range) stands beside it
  return { composition, ...sizeAtPerCard(scenario, composition.prefill?.tokensPerSecPerCard, composition.decode.tokensPerSecPerCard) };
}

/**
 * The scenario's demand, utilization and cards per server with one per-card prefill and decode
 * figure in place of its own; a prefill figure not given keeps the scenario's.
 */
export function sizeAtPerCard(
  scenario: Scenario,
  prefillTokensPerSec: number | undefined,
  decodeTokensPerSec: number,
): { card: CardFigures; sizing: Sizing } {
  const own = cardFiguresOf(scenario);
  const card: CardFigures = {
    ...own,
    prefillTokensPerSecPerCard:
      prefillTokensPerSec === undefined ? own.prefillTokensPerSecPerCard : { low: prefillTokensPerSec, high: prefillTokensPerSec },
    decodeTokensPerSecPerCard: { low: decodeTokensPerSec, high: decodeTokensPerSec },
  };
  return { card, sizing: sizeScenario(scenario, card) };
}

/** Runs pooled by the card that measured them: what one composition reads, and the files it names. */
export interface CardRuns {
  run: MeasuredRun;
  /** The files, comma-separated: a composition's `file`. */
  source: string;
}

/**
 * Every run measured on one card, pooled into one: a user who runs the cases `size` names, one
 * command at a time, gets them composed together, each term still naming its own file. Runs with
 * no case on a card with datasheet peaks (a CPU, an unknown card) pool by their first case's device
 * and engine; runs with no measured case stay one per file. Pure.
 */
export function poolByCard(runs: readonly Run[]): CardRuns[] {
  const groups = new Map<string, Run[]>();
  for (const run of runs) {
    const measured = run.cases.filter((c) => c.status === 'ok' || c.status === 'noisy');
    const card = measured.map((c) => measuredCard(run, c)).find((p) => p && !p.measured)?.name;
    // a device without a datasheet row pools by device and engine, so a run of its roofline probes
    // given beside the run of its layers lends them its measured ceilings
    const first = measured[0];
    const key = card ? `card\u0000${card}` : first ? `device\u0000${first.device}\u0000${first.backend}` : `file\u0000${run.source}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(run);
  }
  return [...groups.values()].map((group) => {
    if (group.length === 1) return { run: group[0], source: group[0].source };
    const caseSources = new Map<CaseResult, string>(group.flatMap((r) => r.cases.map((c) => [c, r.source] as const)));
    // a case names its GPU by index: the first run's index wins, and the runs share a card model
    const gpus = [...new Map(group.flatMap((r) => r.environment.gpus.map((g) => [g.index, g] as const)).reverse()).values()];
    return {
      run: { environment: { ...group[0].environment, gpus }, cases: group.flatMap((r) => r.cases), caseSources },
      source: [...new Set(group.map((r) => r.source))].join(', '),
    };
  });
}
