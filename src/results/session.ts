import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { WriteError } from '../errors.js';
import { lockForWriting } from '../files/lock.js';
import { readResultFile, writeResultFileAtomic } from './io.js';
import type { CaseResult, Environment, ResultFileBody } from './schema.js';
import { SCHEMA_VERSION } from './schema.js';

/**
 * The result file of one run, rewritten atomically after every case so that a
 * crash or Ctrl-C loses at most the case in flight.
 */
export class ResultSession {
  private constructor(readonly path: string, private body: ResultFileBody) {}

  static create(path: string, environment: Environment, run: ResultFileBody['run']): ResultSession {
    const s = new ResultSession(path, { schemaVersion: SCHEMA_VERSION, tool: 'moebench', environment, run, cases: [] });
    s.flush();
    return s;
  }

  /** Continues a file from an interrupted run; its completed cases are kept as they are. Its only writer until exit. */
  static resume(path: string): ResultSession {
    // a file that cannot be read is refused as such, before any lock is taken beside it
    if (existsSync(path)) lockForWriting(path, 'result file');
    const file = readResultFile(path);
    const { integrity: _old, ...body } = file;
    return new ResultSession(path, body);
  }

  static exists(path: string): boolean {
    return existsSync(path);
  }

  get cases(): readonly CaseResult[] {
    return this.body.cases;
  }

  get run(): ResultFileBody['run'] {
    return this.body.run;
  }

  get environment(): Environment {
    return this.body.environment;
  }

  /** backend + case id of every case already in the file that `complete` accepts (all, by default). */
  completedKeys(complete: (c: CaseResult) => boolean = () => true): Set<string> {
    return new Set(this.body.cases.filter(complete).map((c) => caseKey(c.backend, c.id)));
  }

  add(result: CaseResult): void {
    const key = caseKey(result.backend, result.id);
    // a case that gains a repetition keeps its place in the file
    const at = this.body.cases.findIndex((c) => caseKey(c.backend, c.id) === key);
    const cases = at < 0 ? [...this.body.cases, result] : this.body.cases.map((c, i) => (i === at ? result : c));
    this.body = { ...this.body, cases };
    this.flush();
  }

  /** Adds what was learned about the machine after the file was created (the host check). */
  recordEnvironment(fields: Partial<Environment>): void {
    this.body = { ...this.body, environment: { ...this.body.environment, ...fields } };
    this.flush();
  }

  /** Marks the run ended (now, or `endedAt`) with its sweep fits. */
  finish(sweeps?: ResultFileBody['sweeps'], endedAt = new Date().toISOString()): void {
    this.body = { ...this.body, ...(sweeps?.length ? { sweeps } : {}), environment: { ...this.body.environment, endedAt } };
    this.flush();
  }

  /**
   * On a write that fails (a full disk, a mount gone read-only), the file there is left as it was
   * and the cases measured so far, which exist only in this process, are written elsewhere: the
   * error names that file and how to continue from it.
   */
  private flush(): void {
    try {
      writeResultFileAtomic(this.path, this.body);
    } catch (err) {
      // before any case there is nothing of the user's to keep: the error as it is
      if (!(err instanceof WriteError) || this.body.cases.length === 0) throw err;
      const rescued = rescue(this.path, this.body);
      const n = this.body.cases.length;
      throw new WriteError(
        this.path,
        err.code,
        'result file',
        rescued
          ? `the ${n} case(s) measured so far are kept in ${rescued}: continue with moebench run --resume ${rescued}`
          : `the ${n} case(s) measured so far could not be written anywhere (tried ${rescueDirs(this.path).join(', ')})`,
      );
    }
  }
}

/** Where a result that cannot be written to its own path goes: the temp folder, home, then memory-backed /dev/shm. */
function rescueDirs(path: string): string[] {
  const own = resolve(dirname(path));
  return [...new Set([tmpdir(), homedir(), '/dev/shm'].map((d) => resolve(d)))].filter((d) => d !== own);
}

function rescue(path: string, body: ResultFileBody): string | undefined {
  for (const dir of rescueDirs(path)) {
    const to = join(dir, `moebench-rescued-${process.pid}-${basename(path)}`);
    try {
      writeResultFileAtomic(to, body);
      return to;
    } catch {
      // that one is full or read-only too: the next
    }
  }
  return undefined;
}

/** A case is one workload on one backend: the same workload on two engines is two cases. */
export function caseKey(backend: string, id: string): string {
  return `${backend}\u0000${id}`;
}
