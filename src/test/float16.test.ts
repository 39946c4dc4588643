import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHalfBits, roundToHalf, toHalfBits } from '../workloads/float16.js';

const rounded = (...xs: number[]) => [...roundToHalf(Float32Array.from(xs))];

describe('roundToHalf: float32 values to the fp16 values a tensor holds', () => {
  it('rounds to nearest, ties to even, as hand-worked here', () => {
    // 1/3 keeps 10 mantissa bits: 0x3555 = 0.333251953125
    expect(rounded(1 / 3)).toEqual([0.333251953125]);
    // between 2048 and 2050 a half step is 2: 2049 is a tie (to the even 2048), 2051 too (to 2052)
    expect(rounded(2049, 2051, 2050.5, -2049)).toEqual([2048, 2052, 2050, -2048]);
    // 1 + 2^-11 is a tie between 1 and 1 + 2^-10: to 1; 1 + 3 × 2^-11 goes up to 1 + 2^-9
    expect(rounded(1 + 2 ** -11, 1 + 3 * 2 ** -11)).toEqual([1, 1 + 2 ** -9]);
    // a carry out of the mantissa raises the exponent: 2047.9 is 2048
    expect(rounded(2047.9)).toEqual([2048]);
  });

  it("keeps half's largest value, overflows at 65520, and keeps the specials", () => {
    expect(rounded(65504, 65519.99, 65520, -65520, 1e6)).toEqual([65504, 65504, Infinity, -Infinity, Infinity]);
    const [nan, inf, negZero] = rounded(NaN, -Infinity, -0);
    expect(nan).toBeNaN();
    expect(inf).toBe(-Infinity);
    expect(Object.is(negZero, -0)).toBe(true);
  });

  it("rounds half's subnormals to multiples of 2^-24", () => {
    // 2^-14 is the smallest normal; 2^-25 ties to 0, 3 × 2^-25 to 2^-23, 2^-26 underflows
    expect(rounded(2 ** -14, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 2 ** -26, 1.2e-5)).toEqual([2 ** -14, 2 ** -24, 0, 2 ** -23, 0, 201 * 2 ** -24]);
  });

  it('agrees with the scalar conversion through half bits for any float32', () => {
    // float32 bit patterns, most near what rounding decides on: half's exponents and their edges,
    // and the 13 mantissa bits half drops at a tie, just either side of it, or all set
    const pattern = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc
        .record({
          sign: fc.boolean(),
          exponent: fc.integer({ min: 100, max: 145 }),
          kept: fc.integer({ min: 0, max: 0x3ff }),
          dropped: fc.oneof(fc.constantFrom(0, 0xfff, 0x1000, 0x1001, 0x1fff), fc.integer({ min: 0, max: 0x1fff })),
        })
        .map((p) => ((p.sign ? 0x80000000 : 0) | (p.exponent << 23) | (p.kept << 13) | p.dropped) >>> 0),
    );
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 64 }), (patterns) => {
        const values = new Float32Array(Uint32Array.from(patterns).buffer);
        const expected = [...values].map((v) => fromHalfBits(toHalfBits(v)));
        expect([...roundToHalf(values)]).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
