/** A figure known as a number or as a low–high range. */
export interface Range {
  low: number;
  high: number;
}

export function range(low: number, high = low): Range {
  return { low, high };
}

export function mid(r: Range): number {
  return (r.low + r.high) / 2;
}

export function isPoint(r: Range): boolean {
  return r.low === r.high;
}

/** Applies f to both ends. */
export function mapRange(r: Range, f: (x: number) => number): Range {
  return { low: f(r.low), high: f(r.high) };
}

export function addRanges(a: Range, b: Range): Range {
  return { low: a.low + b.low, high: a.high + b.high };
}
