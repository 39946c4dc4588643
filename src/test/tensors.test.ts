import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeRng, uniformValues } from '../workloads/rng.js';
import { tensorRange, tensorValues } from '../workloads/tensors.js';
import { tinyCase } from './helpers/cases.js';

describe('seeded values by range: a block of a tensor too large to make whole', () => {
  it('any range of a stream is the same numbers the whole stream has there', () => {
    fc.assert(
      fc.property(fc.integer(), fc.string(), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 300 }), (seed, name, start, count) => {
        const whole = uniformValues(seed, name, start + count, 0.5);
        expect(uniformValues(seed, name, count, 0.5, start)).toEqual(whole.subarray(start));
      }),
    );
  });

  it('the jump is exact far into a stream, past 2^32 draws', () => {
    // 2^32 draws bring mulberry32's state back round: the stream repeats with that period
    const far = makeRng(7, 'kv_cache', 2 ** 32 + 5);
    const near = makeRng(7, 'kv_cache', 5);
    expect([far(), far(), far()]).toEqual([near(), near(), near()]);
  });

  it('an fp16 case’s range is rounded as its whole tensor is', () => {
    const c = tinyCase({ dtype: 'fp16' });
    const decl = { name: 'k_cache', dims: [4, 2, 16, 8], scale: 1 };
    expect(tensorRange(c, decl, 256, 128)).toEqual(tensorValues(c, decl).subarray(256, 384));
  });
});
