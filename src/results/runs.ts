import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OtherMoebenchFileError, ResultFileError, UsageError } from '../errors.js';
import { readAnyFile } from './io.js';
import type { CaseResult, CollectedRun, CollectionFile, SlurmTask } from './schema.js';

/** One run's environment and cases, from a result file or from inside a collection. */
export type Run = Omit<CollectedRun, 'sourceIntegrity'> & { sourceIntegrity?: string };

export type Conflict = CollectionFile['conflicts'][number];

export interface LoadedRuns {
  runs: Run[];
  /** Files inside folders that could not be read; explicit file arguments throw instead. */
  bad: { path: string; reason: string }[];
  /** Conflicts recorded by earlier merges in the collections read: the case kept is the first one. */
  conflicts: Conflict[];
  /** The `moebench slurm` tasks of the collections read, with how each ended. */
  slurmTasks: SlurmTask[];
}

function jsonFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return jsonFilesUnder(p);
    return e.isFile() && e.name.endsWith('.json') ? [p] : [];
  }).sort();
}

function runsOf(path: string): { runs: Run[]; conflicts: Conflict[]; slurmTasks: SlurmTask[] } {
  const any = readAnyFile(path);
  if (any.kind === 'collection') return { runs: any.file.runs, conflicts: any.file.conflicts, slurmTasks: any.file.slurm?.tasks ?? [] };
  const { environment, run, cases, integrity } = any.file;
  return { runs: [{ source: path, sourceIntegrity: integrity, environment, run, cases }], conflicts: [], slurmTasks: [] };
}

/** Files and folders (searched recursively for *.json) → runs. A bad file in a folder is named and skipped. */
export function loadRuns(paths: string[]): LoadedRuns {
  const runs: Run[] = [];
  const bad: LoadedRuns['bad'] = [];
  const conflicts: Conflict[] = [];
  const slurmTasks: SlurmTask[] = [];
  const add = (read: ReturnType<typeof runsOf>) => {
    runs.push(...read.runs);
    conflicts.push(...read.conflicts);
    slurmTasks.push(...read.slurmTasks);
  };
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      throw ResultFileError.unreadable(path, err);
    }
    if (!isDir) {
      add(runsOf(path));
      continue;
    }
    for (const file of jsonFilesUnder(path)) {
      try {
        add(runsOf(file));
      } catch (err) {
        // an env --check report beside the runs (a sitting's folder) is not a bad result file
        if (err instanceof OtherMoebenchFileError) continue;
        bad.push({ path: file, reason: err instanceof ResultFileError ? err.message.slice(file.length + 2) : (err as Error).message });
      }
    }
  }
  return { runs, bad, conflicts, slurmTasks };
}

/** What a command says on stderr about its inputs: files skipped, and conflicts earlier merges left unresolved. */
export function loadingNotes(loaded: LoadedRuns): string[] {
  return [
    ...loaded.bad.map((b) => `moebench: skipped ${b.path}: ${b.reason}`),
    ...(loaded.conflicts.length
      ? [
          `moebench: ${loaded.conflicts.length} conflict(s) recorded by earlier merges (${[...new Set(loaded.conflicts.map((c) => c.key))].slice(0, 3).join('; ')}${loaded.conflicts.length > 3 ? '; …' : ''}): the first measurement of each is the one used; the others are in the collection's conflicts`,
        ]
      : []),
  ];
}

/** The card a case ran on, as a stable id: the GPU's uuid, else the device description. */
export function cardId(run: Run, c: CaseResult): string {
  const m = /^gpu:(\d+)/.exec(c.device);
  const gpu = m ? run.environment.gpus.find((g) => g.index === Number(m[1])) : undefined;
  return gpu?.uuid ?? c.device;
}

/** A merge or report never writes over what it reads: --out naming one of its inputs (or a file in an input folder) is refused. */
export function refuseInputAsOut(out: string, paths: string[], what: string): void {
  const target = resolve(out);
  for (const path of paths) {
    let files = [path];
    try {
      if (statSync(path).isDirectory()) files = jsonFilesUnder(path);
    } catch {
      // an unreadable input is reported by loadRuns
    }
    if (files.some((f) => resolve(f) === target)) {
      throw new UsageError(`--out ${out} is one of the ${what}'s inputs: writing it would replace what it reads; choose another --out`);
    }
  }
}
