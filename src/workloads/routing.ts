import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { makeRng } from './rng.js';

/** How tokens are spread over experts. The router is real; this is imposed by biasing its logits. */
export type RoutingSpec =
  | { kind: 'uniform' }
  /** Expert popularity ∝ 1 / (rank + 1)^exponent; expert 0 is the most popular. */
  | { kind: 'zipf'; exponent: number }
  /** A fraction of tokens always picks expert 0; the rest is uniform. */
  | { kind: 'hot'; fraction: number }
  /** Expert ids per token from a JSON file: { "assignments": [[e, ...], ...] }, reused cyclically. */
  | { kind: 'file'; path: string; assignments: number[][] };

export function parseRouting(text: string): RoutingSpec {
  if (text === 'uniform') return { kind: 'uniform' };
  const [name, arg] = splitOnce(text, ':');
  if (name === 'zipf') {
    const exponent = Number(arg);
    if (!(arg !== '' && Number.isFinite(exponent) && exponent >= 0)) {
      throw new UsageError(`routing "${text}": zipf needs a non-negative exponent, e.g. zipf:1.2`);
    }
    return { kind: 'zipf', exponent };
  }
  if (name === 'hot') {
    const fraction = Number(arg);
    if (!(arg !== '' && fraction >= 0 && fraction <= 1)) {
      throw new UsageError(`routing "${text}": hot needs a fraction between 0 and 1, e.g. hot:0.5`);
    }
    return { kind: 'hot', fraction };
  }
  if (name === 'file') return readRoutingFile(arg);
  throw new UsageError(`unknown routing "${text}": use uniform, zipf:S, hot:F or file:PATH`);
}

export function routingLabel(spec: RoutingSpec): string {
  switch (spec.kind) {
    case 'uniform':
      return 'uniform';
    case 'zipf':
      return `zipf:${spec.exponent}`;
    case 'hot':
      return `hot:${spec.fraction}`;
    case 'file':
      return `file:${spec.path}`;
  }
}

function splitOnce(text: string, sep: string): [string, string] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)];
}

function readRoutingFile(path: string): RoutingSpec {
  if (!path) throw new UsageError('routing "file:" needs a path, e.g. file:routing.json');
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`routing file ${path}: ${(err as Error).message}`);
  }
  const assignments = (data as { assignments?: unknown })?.assignments;
  if (!Array.isArray(assignments) || assignments.length === 0) {
    throw new UsageError(`routing file ${path}: expected {"assignments": [[expert, ...], ...]} with at least one row`);
  }
  assignments.forEach((row, i) => {
    if (!Array.isArray(row) || row.length === 0 || !row.every((e) => Number.isInteger(e) && e >= 0)) {
      throw new UsageError(`routing file ${path}: row ${i} must be a non-empty list of expert ids (integers ≥ 0)`);
    }
    if (new Set(row).size !== row.length) {
      throw new UsageError(`routing file ${path}: row ${i} names an expert twice`);
    }
  });
  return { kind: 'file', path, assignments: assignments as number[][] };
}

/** Checks a routing against a layer: file rows must have k ids below numExperts. */
export function checkRouting(spec: RoutingSpec, numExperts: number, topK: number): void {
  if (spec.kind !== 'file') return;
  spec.assignments.forEach((row, i) => {
    if (row.length !== topK) {
      throw new UsageError(`routing file ${spec.path}: row ${i} has ${row.length} experts, the layer routes to top-${topK}`);
    }
    const bad = row.find((e) => e >= numExperts);
    if (bad !== undefined) {
      throw new UsageError(`routing file ${spec.path}: row ${i} names expert ${bad}, the layer has ${numExperts}`);
    }
  });
}

export interface Assignment {
  numTokens: number;
  topK: number;
  /** Row-major [numTokens, topK] expert ids, distinct within a row. */
  experts: Int32Array;
}

/** Draws each token's k distinct experts, deterministically for a seed. */
export function assignExperts(spec: RoutingSpec, numTokens: number, numExperts: number, topK: number, seed: number): Assignment {
  if (topK > numExperts) throw new UsageError(`top-k ${topK} is more than the ${numExperts} experts`);
  checkRouting(spec, numExperts, topK);
  const experts = new Int32Array(numTokens * topK);
  const rng = makeRng(seed, 'routing');
  const popularity = popularityOf(spec, numExperts);
  for (let t = 0; t < numTokens; t++) {
    const row = experts.subarray(t * topK, (t + 1) * topK);
    if (spec.kind === 'file') {
      row.set(spec.assignments[t % spec.assignments.length]);
      continue;
    }
    let first = 0;
    if (spec.kind === 'hot' && rng() < spec.fraction) {
      row[0] = 0;
      first = 1;
    }
    sampleDistinct(popularity, rng, row, first);
  }
  return { numTokens, topK, experts };
}

function popularityOf(spec: RoutingSpec, numExperts: number): Float64Array {
  const p = new Float64Array(numExperts);
  for (let e = 0; e < numExperts; e++) p[e] = spec.kind === 'zipf' ? 1 / Math.pow(e + 1, spec.exponent) : 1;
  return p;
}

/** Weighted sampling without replacement, filling row[first..]. */
function sampleDistinct(popularity: Float64Array, rng: () => number, row: Int32Array, first: number): void {
  const taken = new Set<number>();
  for (let i = 0; i < first; i++) taken.add(row[i]);
  let remaining = 0;
  for (let e = 0; e < popularity.length; e++) if (!taken.has(e)) remaining += popularity[e];
  for (let i = first; i < row.length; i++) {
    let r = rng() * remaining;
    let pick = -1;
    for (let e = 0; e < popularity.length; e++) {
      if (taken.has(e)) continue;
      pick = e;
      r -= popularity[e];
      if (r < 0) break;
    }
    row[i] = pick;
    taken.add(pick);
    remaining -= popularity[pick];
  }
}

/** Tokens routed to each expert. */
export function expertHistogram(assignment: Assignment, numExperts: number): number[] {
  const counts = new Array<number>(numExperts).fill(0);
  for (const e of assignment.experts) counts[e]++;
  return counts;
}
