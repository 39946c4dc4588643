/**
 * Seeded pseudo-random numbers. Weights, inputs and routing all derive from a
 * (seed, name) pair so that any engine can regenerate exactly the same values.
 */

/** FNV-1a, 32-bit: turns a tensor name into a stream id. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const MULBERRY_STEP = 0x6d2b79f5;

/**
 * mulberry32: small, fast and good enough for test data; returns floats in [0, 1). Its state only
 * ever adds a constant, so `skip` draws are jumped in one step: any range of a stream (one
 * sequence's slice of a KV cache larger than a typed array can hold) is made without the rest.
 */
export function makeRng(seed: number, stream = '', skip = 0): () => number {
  let state = (((seed ^ hashString(stream)) >>> 0) + Math.imul(skip >>> 0, MULBERRY_STEP)) >>> 0;
  return () => {
    state = (state + MULBERRY_STEP) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Uniform values in [-scale, scale), never exactly zero, so that a layer that
 * silently drops a weight shows up in the correctness check. `start`: the stream's values from
 * there on, the same numbers the whole stream has at those places.
 */
export function uniformValues(seed: number, name: string, count: number, scale: number, start = 0): Float32Array {
  const rng = makeRng(seed, name, start);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = (rng() * 2 - 1) * scale;
    out[i] = v === 0 ? scale * 1e-3 : v;
  }
  return out;
}
