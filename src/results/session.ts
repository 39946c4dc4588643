import { existsSync } from 'node:fs';
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

  /** Continues a file from an interrupted run; its completed cases are kept as they are. */
  static resume(path: string): ResultSession {
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

  private flush(): void {
    writeResultFileAtomic(this.path, this.body);
  }
}

/** A case is one workload on one backend: the same workload on two engines is two cases. */
export function caseKey(backend: string, id: string): string {
  return `${backend}\u0000${id}`;
}
