import { integrityOf } from './integrity.js';
import type { CollectedRun, CollectionFile } from './schema.js';
import { cardId, type Run } from './runs.js';

export type Merged = Pick<CollectionFile, 'runs' | 'conflicts' | 'duplicates'>;

/** Host, card, backend, case and start time: the same measurement wherever its file turns up. */
export function measurementKey(run: Run, c: CollectedRun['cases'][number]): string {
  return [run.environment.host, cardId(run, c), c.backend, c.id, c.startedAt].join(' | ');
}

/**
 * Folds runs from many hosts into one collection. An exact duplicate is kept once;
 * the same key with different content is a conflict: the first is kept and the
 * other is recorded in `conflicts`, never dropped silently. Pure.
 */
export function mergeRuns(runs: Run[]): Merged {
  const seen = new Map<string, { source: string; digest: string }>();
  const out: CollectedRun[] = [];
  const conflicts: CollectionFile['conflicts'] = [];
  let duplicates = 0;
  for (const run of runs) {
    const kept = run.cases.filter((c) => {
      const key = measurementKey(run, c);
      const digest = integrityOf(c as unknown as Record<string, unknown>);
      const first = seen.get(key);
      if (!first) {
        seen.set(key, { source: run.source, digest });
        return true;
      }
      if (first.digest === digest) duplicates++;
      else conflicts.push({ key, kept: first.source, other: run.source, otherCase: c });
      return false;
    });
    if (kept.length) out.push({ source: run.source, sourceIntegrity: run.sourceIntegrity ?? '', environment: run.environment, run: run.run, cases: kept });
  }
  return { runs: out, conflicts, duplicates };
}
