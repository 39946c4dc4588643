/**
 * bfloat16 and FP8 (e4m3) values as float32, for the tensors of bf16 and fp8 cases: the float64
 * reference and the engines start from the very numbers the low-precision tensors hold.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds to the nearest bfloat16 (ties to even, as torch's conversion does), in place. */
export function roundToBf16(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const bits = u32[0];
    u32[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) << 16;
    values[i] = f32[0];
  }
  return values;
}

/** The largest finite e4m3fn value (1.75 × 2^8). */
export const E4M3_MAX = 448;

/**
 * The per-tensor scale of an fp8 tensor whose values lie in [-bound, bound): its largest value maps
 * to e4m3's largest, so no value saturates and the whole range is used.
 */
export function fp8Scale(bound: number): number {
  return bound / E4M3_MAX;
}

/** x rounded to the nearest e4m3fn value (3 mantissa bits, exponent bias 7, subnormals down to 2^-9), ties to even. */
export function roundE4m3(x: number): number {
  const a = Math.abs(x);
  if (a === 0 || Number.isNaN(a)) return x;
  if (a >= E4M3_MAX) return Math.sign(x) * E4M3_MAX;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const quantum = 2 ** (Math.max(e, -6) - 3);
  const r = a / quantum;
  let n = Math.floor(r);
  const rest = r - n;
  if (rest > 0.5 || (rest === 0.5 && n % 2 === 1)) n++;
  return Math.sign(x) * Math.min(n * quantum, E4M3_MAX);
}

/** Each value as scale × (the nearest e4m3 value of value / scale): what an fp8 tensor with that per-tensor scale holds. */
export function quantiseE4m3(values: Float32Array, scale: number): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = roundE4m3(values[i] / scale) * scale;
  return values;
}
