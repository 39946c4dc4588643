import { integrityOf } from './integrity.js';
import type { CollectedRun, CollectionFile } from './schema.js';
import { cardId, type Conflict, type Run } from './runs.js';

export type Merged = Pick<CollectionFile, 'runs' | 'conflicts' | 'duplicates'>;

/**
 * Host, card, backend, case and start time, and the Slurm task that measured it: the same
 * measurement wherever its file turns up. The task because Slurm starts an array's tasks on one
 * node together: two CPU tasks of a CI run started the same case in the same millisecond, and
 * the second was taken for a copy of the first (a conflict, one of two runs lost). An array task
 * by its array and task id, as `moebench slurm status` names it; any other job by its id.
 */
export function measurementKey(run: Run, c: CollectedRun['cases'][number]): string {
  const slurm = run.environment.slurm;
  const task = slurm ? (slurm.arrayJobId ? `slurm ${slurm.arrayJobId}_${slurm.arrayTaskId ?? ''}` : `slurm ${slurm.jobId}`) : undefined;
  return [run.environment.host, cardId(run, c), c.backend, c.id, c.startedAt, ...(task ? [task] : [])].join(' | ');
}

/**
 * Each measurement once: a case whose measurementKey (within its `scope`, e.g. a comparison's
 * side) an earlier run already gave is left out, and a run left with no case is dropped. What a
 * run's file beside a collection holding it, or a copy, would otherwise count twice. Pure.
 */
export function onceEach(runs: readonly Run[], scope: (run: Run, c: Run['cases'][number]) => string = () => ''): { runs: Run[]; repeated: number } {
  const seen = new Set<string>();
  let repeated = 0;
  const out = runs.flatMap((run) => {
    const cases = run.cases.filter((c) => {
      const key = `${scope(run, c)}\u0001${measurementKey(run, c)}`;
      if (seen.has(key)) {
        repeated++;
        return false;
      }
      seen.add(key);
      return true;
    });
    if (cases.length === run.cases.length) return [run];
    return cases.length ? [{ ...run, cases }] : [];
  });
  return { runs: out, repeated };
}

/**
 * Folds runs from many hosts into one collection. An exact duplicate is kept once;
 * the same key with different content is a conflict: the first is kept and the
 * other is recorded in `conflicts`, never dropped silently. Conflicts recorded by
 * earlier merges (`prior`, from the collections read) are carried into this one, so
 * merging a merge never loses them. Pure.
 */
export function mergeRuns(runs: Run[], prior: Conflict[] = []): Merged {
  const seen = new Map<string, { source: string; digest: string }>();
  const out: CollectedRun[] = [];
  const conflicts: Conflict[] = [];
  const recorded = new Set<string>();
  const record = (c: Conflict) => {
    const id = `${c.key}\u0000${integrityOf(c.otherCase as unknown as Record<string, unknown>)}`;
    if (recorded.has(id)) return false;
    recorded.add(id);
    conflicts.push(c);
    return true;
  };
  for (const c of prior) record(c);
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
      // the conflicting case an earlier merge recorded, met again: already kept as a conflict
      if (first.digest === digest || !record({ key, kept: first.source, other: run.source, otherCase: c })) duplicates++;
      return false;
    });
    if (kept.length) out.push({ source: run.source, sourceIntegrity: run.sourceIntegrity ?? '', environment: run.environment, run: run.run, cases: kept });
  }
  return { runs: out, conflicts, duplicates };
}
