/** IEEE half precision, for fp16 tensors in Node 20 (which has no Float16Array). */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds to nearest even, as hardware conversion does. */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function toHalfArray(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]);
  return out;
}

export function fromHalfArray(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = fromHalfBits(bits[i]);
  return out;
}

/**
 * The values an fp16 tensor actually holds, rounded in place. Half's normal range is rounded on the
 * float32 bits (the mantissa cut to 10 bits, ties to even, a carry running into the exponent as
 * it should): a real-shape fp16 case rounds its weights for the reference, the ONNX model and the
 * peers, and the scalar round trip below spent about 20 s of JS on each of those for
 * deepseek-v3's 352M-value expert slice. Subnormals, overflow, infinities and NaN are rare in
 * seeded tensors and take the scalar path.
 */
export function roundToHalf(values: Float32Array): Float32Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    const exp = (x >>> 23) & 0xff;
    // 113..142: half's normal exponents, 2^-14 up to 2^15
    if (exp >= 113 && exp <= 142) {
      const rounded = ((x + 0xfff + ((x >>> 13) & 1)) & 0xffffe000) >>> 0;
      // a carry past 2^15 × 1.1111111111b (65504) is half's overflow: infinity
      bits[i] = ((rounded >>> 23) & 0xff) > 142 ? (x & 0x80000000) | 0x7f800000 : rounded;
    } else values[i] = fromHalfBits(toHalfBits(values[i]));
  }
  return values;
}
